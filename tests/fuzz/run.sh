#!/bin/sh
# Runs each libFuzzer harness for SECONDS seconds on a private copy of its
# seed corpus (tests/fuzz/corpus/NAME with the fuzz_ prefix dropped).
# Exits non-zero as soon as one harness finds a crash.
secs=$1; shift
here=$(dirname "$0")
for h in "$@"; do
	name=$(basename "$h"); name=${name#fuzz_}
	work="build/fuzz/corpus/$name"
	mkdir -p "$work"
	[ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$work"/ 2>/dev/null
	echo "== fuzz $name for ${secs}s"
	"$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build/fuzz/$name-" \
		"$work" 2>&1 | grep -E '^(stat::number_of_executed_units|==[0-9]+==|SUMMARY|Done)' || true
	[ -z "$(ls build/fuzz/"$name"-crash-* build/fuzz/"$name"-leak-* build/fuzz/"$name"-timeout-* 2>/dev/null)" ] || {
		echo "fuzz: $name found a failure: $(ls build/fuzz/"$name"-*-* | head -n 1)"; exit 1; }
done
echo "fuzz: every harness ran clean"
