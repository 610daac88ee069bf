# SPDX-License-Identifier: Apache-2.0
#
# bench/report.awk — turns build/bench/samples.txt into the table and results.json (POSIX awk; mawk
# and gawk both run it).
#   awk -f report.awk -v quick=0|1 -v json=OUT.json -v notes=NOTES.txt [-v peer=SIDE -v peer_label=NAME] \
#       FIGURES.txt SAMPLES.txt
# FIGURES.txt: id|label|unit|better ("lower", "higher", or "n/a: why" for a row not measured).
# SAMPLES.txt: "id side value" lines, side kiln or the peer's (qemu, unless -v peer says another:
# bench/peers.sh's kvmtool table).
# Per figure and side: median, min, max, n; the ratio is kiln's median over the peer's.

function sort_values(a, n,    i, j, t) {	# insertion sort, a[1..n]
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}
function stats(id, side,    n, a, i, parts) {	# sets S_n, S_med, S_min, S_max
	S_n = 0
	if (!((id, side) in vals))
		return
	n = split(vals[id, side], parts, " ")
	for (i = 1; i <= n; i++)
		a[i] = parts[i] + 0
	sort_values(a, n)
	S_n = n
	S_min = a[1]
	S_max = a[n]
	S_med = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v) {
	if (v >= 1000) return sprintf("%.0f", v)
	if (v >= 100) return sprintf("%.1f", v)
	if (v >= 10) return sprintf("%.2f", v)
	return sprintf("%.3f", v)
}
function cell(id, side) {
	stats(id, side)
	if (S_n == 0)
		return "-"
	if (S_n == 1)
		return fmt(S_med)
	return fmt(S_med) " (" fmt(S_min) "-" fmt(S_max) ")"
}
function jnum(v) { return sprintf("%.6g", v) }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function jside(id, side) {
	stats(id, side)
	if (S_n == 0)
		return "null"
	return "{\"median\": " jnum(S_med) ", \"min\": " jnum(S_min) ", \"max\": " jnum(S_max) ", \"n\": " S_n "}"
}

FNR == NR {
	split($0, f, "|")
	nfig++
	fid[nfig] = f[1]; flabel[nfig] = f[2]; funit[nfig] = f[3]; fbetter[nfig] = f[4]
	next
}
NF == 3 {
	vals[$1, $2] = (($1, $2) in vals) ? vals[$1, $2] " " $3 : $3
}
END {
	if (peer == "") { peer = "qemu"; peer_label = "QEMU" }
	line = sprintf("%-50s %-6s %-26s %-26s %-10s %s", "figure", "unit", "kiln median (min-max)",
		peer_label " median (min-max)", "kiln/" peer_label, "better")
	print line
	gsub(/./, "-", line)
	print line
	first = 1
	printf "{\n  \"quick\": %s,\n  \"figures\": [\n", quick ? "true" : "false" > json
	for (i = 1; i <= nfig; i++) {
		id = fid[i]
		na = (fbetter[i] ~ /^n\/a/)
		if (na) {
			printf "%-50s %-6s %s\n", flabel[i], funit[i], fbetter[i]
		} else {
			k = cell(id, "kiln"); q = cell(id, peer)
			stats(id, "kiln"); kn = S_n; km = S_med
			stats(id, peer); qn = S_n; qm = S_med
			ratio = (kn && qn && qm != 0) ? sprintf("%.2f", km / qm) : "-"
			printf "%-50s %-6s %-26s %-26s %-10s %s\n", flabel[i], funit[i], k, q, ratio, fbetter[i]
		}
		printf "%s    {\"id\": %s, \"label\": %s, \"unit\": %s, ", first ? "" : ",\n", jstr(id),
			jstr(flabel[i]), jstr(funit[i]) > json
		first = 0
		if (na) {
			printf "\"note\": %s, \"kiln\": null, \"%s\": null, \"ratio\": null}", jstr(fbetter[i]), peer > json
		} else {
			jratio = (ratio == "-") ? "null" : ratio
			printf "\"better\": %s, \"kiln\": %s, \"%s\": %s, \"ratio\": %s}", jstr(fbetter[i]),
				jside(id, "kiln"), peer, jside(id, peer), jratio > json
		}
	}
	printf "\n  ],\n  \"notes\": [" > json
	print ""
	n = 0
	while ((getline l < notes) > 0) {
		print "  " l
		printf "%s\n    %s", n++ ? "," : "", jstr(l) > json
	}
	printf "\n  ]\n}\n" > json
}
