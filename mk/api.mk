# check-api: kiln's Firecracker-compatible API driven with curl against the tiny guests
# (tests/integration/api.sh), in the release and the sanitizer build. Every exchange is then checked
# against firecracker.yaml's schemas by the contract checker (tests/api/: schema.awk flattens the
# yaml, contract.c validates with json-c). hold-conns (tests/api/hold_conns.c) holds idle client
# connections for the connection-limit tests; http-raw (tests/api/http_raw.c) sends the raw HTTP
# curl cannot (pipelined and malformed requests). Installs curl when missing.

API_DIR := $(BUILD)/api

$(API_DIR)/contract: tests/api/contract.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O1 -g -o $@ $< -ljson-c

$(API_DIR)/hold-conns: tests/api/hold_conns.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O1 -g -o $@ $<

$(API_DIR)/http-raw: tests/api/http_raw.c
	@mkdir -p $(@D)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -std=gnu11 $(WARNINGS) -O1 -g -o $@ $<

$(API_DIR)/schema.tsv: tests/api/firecracker.yaml tests/api/schema.awk
	@mkdir -p $(@D)
	$(Q)awk -f tests/api/schema.awk $< >$@

check-api: $(BUILD)/kiln $(BUILD)/san/kiln tiny $(API_DIR)/contract $(API_DIR)/schema.tsv \
		$(API_DIR)/hold-conns $(API_DIR)/http-raw
	$(Q)scripts/install-deps.sh curl
	$(Q)$(call on_kvm,check-api,$(BUILD)/kiln $(BUILD)/san/kiln $(BUILD)/tiny $(API_DIR)/contract \
		$(API_DIR)/schema.tsv $(API_DIR)/hold-conns $(API_DIR)/http-raw tests/integration/api.sh \
		tests/integration/tiny_lib.sh tests/api/routes.txt, \
	tests/integration/api.sh $(BUILD)/kiln $(BUILD)/tiny $(API_DIR)/contract $(API_DIR)/schema.tsv \
		$(API_DIR)/hold-conns $(API_DIR)/http-raw && \
	tests/integration/api.sh $(BUILD)/san/kiln $(BUILD)/tiny $(API_DIR)/contract \
		$(API_DIR)/schema.tsv $(API_DIR)/hold-conns $(API_DIR)/http-raw)

.PHONY: check-api
