# SPDX-License-Identifier: Apache-2.0
#
# Extracts what the contract checker needs from Firecracker's OpenAPI (Swagger 2.0) file, as
# tab-separated lines:
#   route     PATH METHOD
#   request   PATH METHOD DEFINITION        (the body parameter's schema)
#   response  PATH METHOD STATUS DEFINITION (DEFINITION is - when the response has no body)
#   def       NAME TYPE
#   required  DEF FIELD
#   prop      DEF FIELD TYPE REF            (TYPE is string, integer, boolean, object, array or ref;
#                                            REF is the referenced definition or the array's item
#                                            type or definition, else -)
#   enum      DEF FIELD VALUE               (FIELD is - for an enum definition such as CpuTemplate)
#   min, max  DEF FIELD N
# It reads only the subset firecracker.yaml uses: two-space indentation, one key per line, enums
# inline ([a, b]) or as lists, descriptions on one or more lines (skipped).
# usage: awk -f schema.awk firecracker.yaml

function indent_of(line) { match(line, /^ */); return RLENGTH }
function unquote(s) { gsub(/^["' ]+|["' ]+$/, "", s); return s }
function ref_name(s) { s = unquote(s); sub(/^#\/definitions\//, "", s); return s }
function emit_response() {
	if (status != "") print "response\t" path "\t" method "\t" status "\t" resp_def
	status = ""
}
function emit_prop(   t, r) {
	if (prop == "") return
	t = ptype; r = pref
	if (t == "" && r != "") t = "ref"
	if (t == "") t = "any"
	print "prop\t" def "\t" prop "\t" t "\t" (r == "" ? "-" : r)
	prop = ""; ptype = ""; pref = ""
}

BEGIN { section = ""; skip_indent = -1 }

{
	line = $0
	sub(/[ \t]+$/, "", line)
	if (line ~ /^ *$/ || line ~ /^ *#/) next
	ind = indent_of(line)
	# Multi-line scalars (descriptions): skip lines indented deeper than their key.
	if (skip_indent >= 0) {
		if (ind > skip_indent) next
		skip_indent = -1
	}
	text = substr(line, ind + 1)
	key = text; sub(/:.*$/, "", key); key = unquote(key)
	value = ""
	if (index(text, ":")) { value = substr(text, index(text, ":") + 1); sub(/^ +/, "", value) }
	if (text !~ /^- / && (key == "description" || key == "summary") && (value == "" || value ~ /^[>|]/)) {
		skip_indent = ind; next
	}
	if (text !~ /^- / && (key == "description" || key == "summary" || key == "example" || key == "title")) {
		skip_indent = ind; next
	}
}

ind == 0 { emit_prop(); emit_response(); section = key; next }

section == "paths" {
	if (ind <= 8) emit_response()
	if (ind == 2) { path = key; next }
	if (ind == 4) { method = toupper(key); in_resp = 0; in_body = 0; print "route\t" path "\t" method; next }
	if (ind == 6 && key == "responses") { in_resp = 1; next }
	if (ind == 6 && key == "parameters") { in_resp = 0; next }
	if (text ~ /^- name:/) { in_body = 0; next }
	if (key == "in" && unquote(value) == "body") { in_body = 1; next }
	if (in_resp && ind == 8) { status = key; resp_def = "-"; next }
	if (key == "$ref" && in_resp) { resp_def = ref_name(value); next }
	if (key == "$ref" && in_body) { print "request\t" path "\t" method "\t" ref_name(value); next }
	next
}

section == "definitions" {
	if (ind == 2) { emit_prop(); def = key; list = ""; next }
	if (ind == 4) {
		emit_prop(); list = ""
		if (key == "type") print "def\t" def "\t" unquote(value)
		else if (key == "required") list = "required"
		else if (key == "enum") list = "defenum"
		else if (key == "properties") list = ""
		next
	}
	if (ind == 6 && text ~ /^- /) {
		v = unquote(substr(text, 3))
		if (list == "required") print "required\t" def "\t" v
		if (list == "defenum") print "enum\t" def "\t-\t" v
		next
	}
	if (ind == 6) { emit_prop(); prop = key; plist = ""; next }
	if (ind == 8 && prop != "") {
		plist = ""
		if (key == "type") ptype = unquote(value)
		else if (key == "$ref") pref = ref_name(value)
		else if (key == "minimum") print "min\t" def "\t" prop "\t" unquote(value)
		else if (key == "maximum") print "max\t" def "\t" prop "\t" unquote(value)
		else if (key == "items") plist = "items"
		else if (key == "enum" && value ~ /^\[/) {
			gsub(/[\[\]]/, "", value); n = split(value, vals, ",")
			for (i = 1; i <= n; i++) print "enum\t" def "\t" prop "\t" unquote(vals[i])
		} else if (key == "enum") plist = "enum"
		next
	}
	if (ind == 10 && prop != "" && text ~ /^- / && plist == "enum") {
		print "enum\t" def "\t" prop "\t" unquote(substr(text, 3)); next
	}
	if (ind == 10 && prop != "" && plist == "items") {
		if (key == "$ref") pref = ref_name(value)
		else if (key == "type") pref = unquote(value)
		next
	}
	next
}

END { emit_prop(); emit_response() }
