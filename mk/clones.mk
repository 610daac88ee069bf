# make bench-clones: N clones of one snapshot started as N separate `kiln restore` processes and as
# one `kiln restore --clones N`, N = 1, 4 and 16, on tiny guests (bench/clones.sh); figures only.
$(BUILD)/bench/clone_start: bench/tools/clone_start.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-clones: $(BUILD)/kiln tiny $(BUILD)/bench/clone_start
	$(Q)bench/clones.sh $(BUILD)/kiln $(BUILD)/tiny $(BUILD)/bench/clone_start

.PHONY: bench-clones
