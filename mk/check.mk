# make check: every test. Installs what it needs first (scripts/install-deps.sh via deps-test).
# Unit tests run in the release and the ASan/UBSan build; so do the tiny-guest tests.

check-unit: $(UNIT_TESTS_REL) $(UNIT_TESTS_SAN)
	$(Q)scripts/run-unit-tests.sh $^

check: deps-test
	$(Q)$(MAKE) --no-print-directory check-unit check-tiny check-linux

.PHONY: check check-unit
