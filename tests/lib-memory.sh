# Peak memory of host-side commands, for the hostile-sandbox tests.

# max_rss <file>: the peak memory /usr/bin/time -v wrote there, in KiB.
max_rss () {
	sed -n "s/^[[:space:]]*Maximum resident set size (kbytes): //p" "$1"
}

# under_256m <file>: that peak is under 256 MiB.
under_256m () {
	rss=$(max_rss "$1") &&
	echo "# peak memory $rss KiB" &&
	test -n "$rss" && test "$rss" -lt 262144
}

# measure <name> <command>...: run it, its peak memory into <name>.time.
# Peak memory is that of the process and of what it ran, one at a time.
# Under AddressSanitizer, without the quarantine in which it keeps freed
# memory: that is the sanitizer's memory, not ours.
measure () {
	out=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
		/usr/bin/time -v -o "$out.time" "$@"
}
