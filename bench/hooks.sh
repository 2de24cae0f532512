#!/bin/sh
# Benchmark: what the per-branch hooks cost the git commands they run in,
# against the same commands without them, in the same run:
#
#   commit, switch and checkout of an existing branch, fetch of 1,500
#   branches: ratio with the hooks (nothing to do) to without them
#   (targets: 1.1, 1.1, 1.1, 1.2);
#   switch -c of a branch the policy matches: foreground milliseconds
#   above the same switch without hooks (target: 20 ms), the sandbox
#   being made in the background.
#
# For scale it also prints what a hook that does nothing ("exit 0") costs:
# git's start of any hook, which no hook can save.
#
# usage: bench/hooks.sh [runs]   (BENCH_ROUNDS: rounds, default 5)
. "$(dirname "$0")/lib.sh"
runs=${1:-10}
repo=$WORK/hooks-repo
sandlike=$WORK/hooks-sandlike

rm -rf "$repo" "$sandlike"
git sand rm -f --all >/dev/null 2>&1 || true
# A small project: 1,000 files; two branches that differ in 20 of them.
git init -q "$repo"
cd "$repo"
for d in $(seq 1 20); do
	mkdir -p d$d
	for f in $(seq 1 50); do echo "$d $f" >d$d/f$f; done
done
git add . && git commit -q -m base
git branch -M main
git switch -q -c other
for d in $(seq 1 20); do echo changed >>d$d/f1; done
git commit -q -am other
git switch -q main
git config sand.image "$IMAGE"
git config sand.network none
# What a sandbox sends back: 1,500 branches.
git init -q "$sandlike"
git -C "$sandlike" commit -q --allow-empty -m sandbox
for i in $(seq 1 1500); do echo "create refs/heads/agent/b$i HEAD"; done |
	git -C "$sandlike" update-ref --stdin
git remote add sand/bench "$sandlike"

# Milliseconds per command, wall-clock and CPU (user + system of every
# process waited for, so a hook's included): $runs in a row, timed together
# (the timer's own start then weighs little). The CPU time is what to read
# on a busy machine, where other work stretches the wall-clock time.
# (times, a builtin, must run in the shell that waited for the commands)
cpu_ms () {
	awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }' "$1"
}
per_run () {
	times >"$WORK/times0"
	t0=$(now_ns)
	"$@"
	t1=$(now_ns)
	times >"$WORK/times1"
	c0=$(cpu_ms "$WORK/times0")
	c1=$(cpu_ms "$WORK/times1")
	awk -v t="$((t1 - t0))" -v c="$((c1 - c0))" -v n="$runs" -v d="${div:-1}" \
		'BEGIN { printf "%.2f %.2f\n", t / n / d / 1000000, c / n / d }'
}
commits () {
	for i in $(seq 1 "$runs"); do git commit -q --allow-empty -m "c$i"; done >/dev/null 2>&1
}
# each run: to the other branch and back, so two switches (div=2)
switches () {
	for i in $(seq 1 "$runs"); do git switch -q other; git switch -q main; done >/dev/null 2>&1
}
checkouts () {
	for i in $(seq 1 "$runs"); do git checkout -q other; git checkout -q main; done >/dev/null 2>&1
}
fetches () {
	git for-each-ref --format='delete %(refname)' refs/remotes/sand/bench | git update-ref --stdin
	git fetch -q sand/bench
}
# switch -c <prefix> [<sandbox prefix>]: wall and CPU ms of each new
# branch, in the foreground; waits (not timed) for its sandbox when it
# gets one, so that making it does not slow the next
switch_c_ms () {
	for i in $(seq 1 "$runs"); do
		runs=1 per_run git switch -q -c "$1$i" 2>/dev/null
		git switch -q main >/dev/null 2>&1
		if test -n "${2:-}"; then
			n=0
			while test $n -lt 300 && test "$(git sand ls --porcelain |
				awk -v n="$2$i" '$1 == "sandbox" { s = $2 } $1 == "status" && s == n { print $2 }')" != running; do
				sleep 0.2
				n=$((n + 1))
			done
		fi
	done
}

hooks_dir=$(git rev-parse --git-path hooks)
# The hooks git-sand installs, kept aside to put in place and take away.
git sand hook install >/dev/null 2>&1
rm -rf "$WORK/sand-hooks" && mkdir "$WORK/sand-hooks"
for f in "$hooks_dir"/*; do
	if grep -q "^# git-sand hook:" "$f"; then mv "$f" "$WORK/sand-hooks/"; fi
done
printf '#!/bin/sh\nexit 0\n' >"$WORK/empty-post-checkout"
chmod +x "$WORK/empty-post-checkout"
# setup <none | empty | off | on>: which hooks, and sand.autoBranch
setup () {
	for f in "$WORK/sand-hooks"/*; do rm -f "$hooks_dir/${f##*/}"; done
	case $1 in
	empty) cp "$WORK/empty-post-checkout" "$hooks_dir/post-checkout" ;;
	off | on) cp "$WORK/sand-hooks"/* "$hooks_dir/" ;;
	esac
	git config sand.autoBranch "$(test "$1" = on && echo true || echo false)"
}
git config sand.autoBranchPattern 'agent/*'

# Rounds, each timing every setup in turn, so that a machine that slows
# down or speeds up weighs on all alike; ratios are taken round by round.
results=$WORK/hooks-results
: >"$results"
rounds=${BENCH_ROUNDS:-5}
for r in $(seq 1 $rounds); do
	for cfg in none empty off on; do
		setup $cfg
		echo "$r $cfg commit $(per_run commits)" >>"$results"
		echo "$r $cfg switch $(div=2 per_run switches)" >>"$results"
		echo "$r $cfg checkout $(div=2 per_run checkouts)" >>"$results"
		echo "$r $cfg fetch $(runs=1 per_run fetches)" >>"$results"
	done
done
setup none
switch_c_ms plain/ >"$WORK/switch-c-none"
setup on
switch_c_ms topic/ >"$WORK/switch-c-nomatch"
switch_c_ms agent/m agent-m >"$WORK/switch-c-match"

# med <cfg> <metric> <col>: median over rounds; ratio_med: of cfg/none, round by round
med () { awk -v c="$1" -v m="$2" -v k="$3" '$2 == c && $3 == m { print $k }' "$results" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio_med () {
	awk -v c="$1" -v m="$2" -v k="$3" '$3 == m && $2 == "none" { b[$1] = $k } $3 == m && $2 == c { a[$1] = $k }
		END { for (r in a) print (b[r] > 0 ? a[r] / b[r] : 0) }' "$results" |
		sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }'
}

echo "milliseconds per command, median of $rounds rounds ($runs commands a round; fetch: one);"
echo "ratio: to no hooks, round by round, median"
for k in 4 5; do
	test $k = 4 && echo "wall-clock:" || echo "CPU (user + system):"
	printf '  %-27s %9s  %-20s %-20s %-20s %s\n' "" "no hooks" "hook 'exit 0'" "autoBranch off" "autoBranch on" target
	for m in commit switch checkout fetch; do
		case $m in
		commit) what="git commit"; target=1.1 ;;
		switch) what="git switch <existing>"; target=1.1 ;;
		checkout) what="git checkout <existing>"; target=1.1 ;;
		fetch) what="git fetch (1,500 branches)"; target=1.2 ;;
		esac
		printf '  %-27s %9s' "$what" "$(med none $m $k)"
		for cfg in empty off on; do
			printf '  %-20s' "$(med $cfg $m $k) (ratio $(ratio_med $cfg $m $k))"
		done
		printf ' %s\n' "$target"
	done
done
# col <file> <1 | 2>: wall-clock, the median; CPU (counted in 10 ms
# ticks, too coarse for one command), the mean. Whole milliseconds.
col () {
	if test "$2" = 1; then
		awk '{ print $1 }' "$1" | median | awk '{ printf "%.0f", $1 }'
	else
		awk '{ t += $2 } END { printf "%.0f", t / NR }' "$1"
	fi
}
for k in 1 2; do
	test $k = 1 && what="wall-clock, median" || what="CPU, mean"
	p=$(col "$WORK/switch-c-none" $k)
	n=$(col "$WORK/switch-c-nomatch" $k)
	m=$(col "$WORK/switch-c-match" $k)
	echo "git switch -c, $what of $runs: no hooks $p ms;" \
		"with the hooks, not matching the policy $n ms (+$((n - p)));" \
		"getting a sandbox $m ms (+$((m - p)) in the foreground; target +20)"
done
echo "sandboxes made by the hooks: $(git sand ls --porcelain | grep -c '^status running') of $runs"
git sand rm -f --all >/dev/null 2>&1
git sand hook uninstall >/dev/null
