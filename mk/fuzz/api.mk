# The control plane's request parser and JSON-to-config step (libkiln's VM calls are stubs there).
# -max_len: inputs up to 8 KiB, past the 4 KiB path limit the parser enforces.
FUZZ_TARGETS += api
FUZZ_api_SRCS := tests/fuzz/fuzz_api.c src/api/json.c src/api/parse.c src/api/route.c \
	src/api/config_file.c src/api/vmm.c src/api/vmm_snapshot.c src/api/describe.c src/abi.c src/config.c src/error.c src/log.c src/util.c
FUZZ_api_LIBS := -ljson-c
FUZZ_api_MAX_LEN := 8192
