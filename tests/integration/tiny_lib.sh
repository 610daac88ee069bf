# tests/integration/tiny_lib.sh — what the suites that run kiln on this machine with tiny guests
# (tiny.sh, hostile.sh, api.sh, snapshot.sh, vmgenid.sh, clones.sh) share: TAP-style result lines
# and the sanitizer check (the Linux-guest suites in the test host have lib.sh). Sourced
# (`. "$(dirname "$0")/tiny_lib.sh"`) before the suite's first check. It sets passed=0 failed=0;
# the suite ends with `echo "$passed passed, $failed failed"` and a status saying whether failed is 0.
# SPDX-License-Identifier: Apache-2.0

passed=0 failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1 ($2)"
}

# check NAME WHY: ok when WHY is empty, else not ok with WHY.
check() {
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "$2"; fi
}

# sanitizer FILE: a sanitizer report in a kiln's stderr is a failure.
sanitizer() {
	if grep -qE 'Sanitizer|runtime error:' "$1"; then
		not_ok "no sanitizer report in $(basename "$1")" "$(grep -m1 -E 'Sanitizer|runtime error:' "$1")"
	fi
}

# contract_check CONTRACT SCHEMA EXCHANGES ROUTES: the API exchanges a suite recorded, held against
# Firecracker's schemas (tests/api/contract.c); its ok and not ok lines count as the suite's. A
# checker that could not check (an input missing) names no exchange: that fails the suite too.
contract_check() {
	contract_out=$(mktemp) || { not_ok "the contract checker ran" "mktemp"; return; }
	"$@" >"$contract_out" 2>&1
	contract_rc=$?
	grep -v '^[0-9]* passed' "$contract_out"
	passed=$((passed + $(grep -c '^ok - ' "$contract_out")))
	failed=$((failed + $(grep -c '^not ok - ' "$contract_out")))
	if [ $contract_rc != 0 ] && ! grep -q '^not ok - ' "$contract_out"; then
		not_ok "the contract checker ran" "status $contract_rc: $(tail -n 1 "$contract_out")"
	fi
	rm -f "$contract_out"
}
