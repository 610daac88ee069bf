#!/bin/sh
# tests/integration/manpage.sh KILN MANPAGE — the man page renders cleanly and documents every
# long flag that `kiln --help` lists (a flag added to the CLI without its man entry fails here).
# SPDX-License-Identifier: Apache-2.0
kiln=${1:?usage: manpage.sh KILN MANPAGE} page=${2:?usage: manpage.sh KILN MANPAGE}
pass=0 failed=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1 ($2)"; failed=$((failed + 1)); }

warnings=$(groff -man -ww -z "$page" 2>&1)
if [ -z "$warnings" ]; then ok "$page renders without groff warnings"
else not_ok "$page renders without groff warnings" "$(echo "$warnings" | head -n 3 | tr '\n' ' ')"; fi

# The page spells a flag's dashes as \-\- (roff would otherwise print hyphens).
flags=$("$kiln" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
missing=
for f in $flags; do
	grep -qF -- "$(echo "$f" | sed 's/-/\\-/g')" "$page" || missing="$missing $f"
done
if [ -n "$flags" ] && [ -z "$missing" ]; then ok "every flag of kiln --help ($(echo $flags | wc -w)) is in $page"
else not_ok "every flag of kiln --help is in $page" "missing:${missing:- (kiln --help printed no flags)}"; fi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
