#!/bin/sh
# Runs every cmocka test binary given as an argument and sums cmocka's
# "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines into one
# closing line "unit: N passed, N failed".  Exit status 1 when any test
# failed or a binary crashed without a summary.  A binary that runs past
# UNIT_TIMEOUT seconds (default 600: a hang, such as a deadlock) is killed
# and counted as crashed.
passed=0 failed=0 crashed=0
for t in "$@"; do
	out=$(timeout "${UNIT_TIMEOUT:-600}" "$t" 2>&1); rc=$?
	[ "$rc" -eq 124 ] && out="$out
unit: $t killed after ${UNIT_TIMEOUT:-600} s (hung?)"
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ -z "$p$f" ] || { [ "$rc" -ne 0 ] && [ -z "$f" ]; }; then
		echo "unit: $t exited $rc without a cmocka summary"
		crashed=$((crashed + 1))
	fi
done
failed=$((failed + crashed))
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
