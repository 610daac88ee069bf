# kiln.h as a later release would have it: one more field at the end of each struct that may grow
# (kiln.h's header comment: how the ABI grows). tests/abi builds a libkiln from it ("the next
# release") and a program against it ("a program built against a newer header").
/^struct kiln_(config|restore|exit) \{$/ { growing = 1 }
growing && /^};$/ {
	print "\tuint64_t abi_next; /* a later release's field (tests/abi/next.awk) */"
	growing = 0
}
{ print }
