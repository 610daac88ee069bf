# The API socket's HTTP/1.1 request parser (api/http.c), fed a byte stream whole and in pieces.
# -max_len: 16 KiB, past the 8 KiB head limit and a few bodies.
FUZZ_TARGETS += http
FUZZ_http_SRCS := tests/fuzz/fuzz_http.c src/api/http.c
FUZZ_http_MAX_LEN := 16384
