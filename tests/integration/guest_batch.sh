#!/bin/sh
# guest_batch.sh SUITE... — runs Linux guest test suites one after the other (inside one KVM test
# host boot, or directly on hardware KVM), shows their output as it comes, and ends with the line
# `N passed, M failed` summed over all of them. A suite that ends without its own summary line
# counts as one failure. Each suite reads KILN, GUEST and KILN_TEST_TIMEOUT from the environment.
# SPDX-License-Identifier: Apache-2.0
total_pass=0 total_fail=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
for suite in "$@"; do
	echo "# suite: $(basename "$suite")"
	sh "$suite" 2>&1 | tee "$out"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "not ok - $(basename "$suite") ended without a summary"
		total_fail=$((total_fail + 1))
		continue
	fi
	total_pass=$((total_pass + $(echo "$summary" | cut -d' ' -f1)))
	total_fail=$((total_fail + $(echo "$summary" | cut -d' ' -f3)))
done
echo "# all suites:"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
