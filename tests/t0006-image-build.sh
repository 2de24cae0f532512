#!/bin/sh
test_description='images/default/build.sh and git sand image build, against a fake runtime (offline)'
. ./test-lib.sh

build_sh="$SRC_DIRECTORY/images/default/build.sh"

# A runtime that builds nothing: it logs its arguments (the build context,
# a temporary directory, as <context> unless it is images/default), keeps
# the Containerfile it was given, and answers "image inspect" for the
# images in FAKE_IMAGES. With FAKE_NO_REGISTRY, a build without a BASE
# (from the registry) fails; with FAKE_FAIL, every build does.
test_expect_success 'setup: a fake runtime, a CA bundle' '
	mkdir bin-fake &&
	cat >bin-fake/podman <<-\EOF &&
	#!/bin/sh
	case $1 in
	image)
		echo "$*" >>"$FAKE_DIR/runtime.log"
		case " $FAKE_IMAGES " in *" $3 "*) exit 0 ;; esac
		exit 1
		;;
	build)
		for last
		do
			:
		done
		args=
		for a
		do
			test "$a" = "$last" || args="$args $a"
		done
		if test "$last" = "$FAKE_SRC/images/default"
		then
			echo "${args# } images/default" >>"$FAKE_DIR/runtime.log"
		else
			echo "${args# } <context>" >>"$FAKE_DIR/runtime.log"
			cp "$last/Containerfile" "$FAKE_DIR/built-Containerfile"
		fi
		test -z "$FAKE_FAIL" || { echo >&2 "Error: no space left"; exit 125; }
		case "$args" in
		*BASE=*) ;;
		*) test -z "$FAKE_NO_REGISTRY" || exit 125 ;;
		esac
		exit 0
		;;
	esac
	exit 1
	EOF
	chmod +x bin-fake/podman &&
	FAKE_DIR=$TRASH_DIRECTORY FAKE_SRC=$SRC_DIRECTORY &&
	export FAKE_DIR FAKE_SRC &&
	echo "---CERTIFICATE---" >ca.pem &&
	SSL_CERT_FILE=$TRASH_DIRECTORY/ca.pem &&
	export SSL_CERT_FILE &&
	PATH="$TRASH_DIRECTORY/bin-fake:$PATH"
'

test_expect_success 'build.sh: usage errors exit 129' '
	test_expect_code 129 "$build_sh" --agent 2>err &&
	test_grep "requires a value" err &&
	test_grep "^usage: build.sh" err &&
	test_expect_code 129 "$build_sh" --agent bogus 2>err &&
	test_grep "unknown agent .bogus. (known: claude codex gemini opencode)" err &&
	test_expect_code 129 "$build_sh" --bogus 2>err &&
	test_grep "unknown option .--bogus." err &&
	test_expect_code 129 "$build_sh" podman image extra 2>err &&
	test_grep "^usage: build.sh" err &&
	test_path_is_missing runtime.log
'

test_expect_success 'build.sh --print-containerfile: the default image'"'"'s without --agent' '
	"$build_sh" --print-containerfile >actual &&
	test_cmp "$SRC_DIRECTORY/images/default/Containerfile" actual
'

test_expect_success 'build.sh --print-containerfile: Node.js, then each agent once, in order, pinned' '
	"$build_sh" --print-containerfile --agent opencode --agent=claude --agent opencode >cf &&
	test_grep "^FROM localhost/git-sand-default:latest\$" cf &&
	test_grep "apt-get install -y --no-install-recommends nodejs npm" cf &&
	sed -n "s/.*npm install --global [-a-z ]* \([^ ]*\) .*/\1/p" cf >actual &&
	printf "%s\n" node@22.23.3 opencode-ai@1.18.33 @anthropic-ai/claude-code@2.1.332 >expect &&
	test_cmp expect actual &&
	test $(grep -c "^RUN --mount=type=secret,id=hostca " cf) = 3 &&
	test_grep "^LABEL io.git-sand.agents=\"opencode claude\"\$" cf &&
	test_path_is_missing runtime.log
'

test_expect_success 'the pinned versions are those of the manual' '
	sed -n -e "/^#/d" -e "s/^\([a-z]*\)	\(.*\)@\([^@]*\)\$/* \1: \`\2\` \3/p" \
		"$SRC_DIRECTORY/images/default/agents" >expect &&
	test_line_count = 4 expect &&
	grep -F -f expect "$SRC_DIRECTORY/Documentation/git-sand.adoc" >actual &&
	test_cmp expect actual
'

test_expect_success 'build.sh: the default image, from the registry base when it can' '
	rm -f runtime.log &&
	"$build_sh" podman &&
	echo "build --network host -t localhost/git-sand-default:latest images/default" >expect &&
	test_cmp expect runtime.log
'

test_expect_success 'build.sh: without a registry, on the base bootstrapped before' '
	rm -f runtime.log &&
	FAKE_NO_REGISTRY=1 FAKE_IMAGES=localhost/git-sand-base:bookworm "$build_sh" podman my/img:1 2>err &&
	test_grep "bootstrapping one from" err &&
	cat >expect <<-\EOF &&
	build --network host -t my/img:1 images/default
	image inspect localhost/git-sand-base:bookworm
	build --network host -t my/img:1 --build-arg BASE=localhost/git-sand-base:bookworm images/default
	EOF
	test_cmp expect runtime.log
'

test_expect_success 'build.sh --agent: on the default image, the CA bundle as a secret' '
	rm -f runtime.log &&
	FAKE_IMAGES=localhost/git-sand-default:latest "$build_sh" --agent codex --agent claude podman &&
	cat >expect <<-EOF &&
	image inspect localhost/git-sand-default:latest
	build --network host -t localhost/git-sand-agents:latest --secret id=hostca,src=$SSL_CERT_FILE <context>
	EOF
	test_cmp expect runtime.log &&
	"$build_sh" --print-containerfile --agent codex --agent claude >expect &&
	test_cmp expect built-Containerfile
'

test_expect_success 'build.sh --agent: the default image first where it is missing; no bundle, no secret' '
	rm -f runtime.log &&
	SSL_CERT_FILE=$TRASH_DIRECTORY/none "$build_sh" --agent gemini podman agents:x &&
	cat >expect <<-\EOF &&
	image inspect localhost/git-sand-default:latest
	build --network host -t localhost/git-sand-default:latest images/default
	build --network host -t agents:x <context>
	EOF
	test_cmp expect runtime.log
'

test_expect_success 'build.sh: a failed build fails' '
	rm -f runtime.log &&
	test_must_fail env FAKE_FAIL=1 FAKE_IMAGES=localhost/git-sand-default:latest \
		"$build_sh" --agent claude podman 2>err &&
	test_grep "no space left" err
'

test_expect_success 'git sand image build: the build script, with the agents once each' '
	rm -f runtime.log &&
	FAKE_IMAGES=localhost/git-sand-default:latest \
		git sand image build --agent codex --agent claude --agent codex --runtime podman >out 2>err &&
	echo "Built '"'"'localhost/git-sand-agents:latest'"'"'" >expect &&
	test_cmp expect out &&
	test_grep "^hint: new sandboxes get it with .git sand new -i localhost/git-sand-agents:latest." err &&
	test_grep "^hint: with .git config --global sand.image localhost/git-sand-agents:latest.\$" err &&
	test_grep "^LABEL io.git-sand.agents=\"codex claude\"\$" built-Containerfile
'

test_expect_success 'git sand image build: the default image, with sand.runtime' '
	rm -f runtime.log &&
	git -c sand.runtime=podman sand image build >out &&
	echo "Built '"'"'localhost/git-sand-default:latest'"'"'" >expect &&
	test_cmp expect out &&
	echo "build --network host -t localhost/git-sand-default:latest images/default" >expect &&
	test_cmp expect runtime.log
'

test_expect_success 'git sand image build: a failed build is fatal' '
	test_expect_code 128 env FAKE_FAIL=1 FAKE_IMAGES=localhost/git-sand-default:latest \
		git sand image build --agent claude --runtime podman >out 2>err &&
	test_grep "^Error: no space left" err &&
	test_grep "^fatal: the build of .localhost/git-sand-agents:latest. failed: .*build.sh. exited with status 125\$" err &&
	test_line_count = 0 out
'

test_expect_success 'git sand image build: bad arguments' '
	test_expect_code 129 git sand image 2>err &&
	test_grep "^usage: git sand image build" err &&
	test_expect_code 129 git sand image bogus 2>err &&
	test_grep "^error: unknown subcommand: .bogus." err &&
	test_expect_code 129 git sand image build extra 2>err &&
	test_grep "^usage: git sand image build" err &&
	test_expect_code 128 git sand image build --agent bogus 2>err &&
	test_grep "^fatal: unknown agent .bogus. (known: claude, codex, gemini, opencode)" err &&
	test_expect_code 128 git sand image build --runtime bogus 2>err &&
	test_grep "unknown runtime .bogus." err
'

test_expect_success 'git sand image build: an installed git-sand finds the files under ../share' '
	mkdir -p inst/bin inst/share/git-sand/images/default &&
	cp "$SRC_DIRECTORY/git-sand" inst/bin/ &&
	cp "$SRC_DIRECTORY"/images/default/build.sh "$SRC_DIRECTORY"/images/default/Containerfile \
		"$SRC_DIRECTORY"/images/default/agents inst/share/git-sand/images/default/ &&
	rm -f runtime.log &&
	FAKE_IMAGES=localhost/git-sand-default:latest inst/bin/git-sand image build --agent gemini \
		--runtime podman >out &&
	test_grep "^Built .localhost/git-sand-agents:latest." out &&
	test_grep "gemini-cli@0.61.0" built-Containerfile
'

test_done
