/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bzImage's payload decompressed by kiln: the LZ4 legacy decoder (boot/lz4.c), the bzImage's
 * payload (x86_kernel_unpack), SHA-256 (boot/sha256.c) and the cache of decompressed kernels
 * (boot/kernel_cache.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/boot.h"
#include "boot/kernel_cache.h"
#include "boot/lz4.h"
#include "boot/sha256.h"
#include "support/scratch.h"

static void put_le(uint8_t *p, unsigned int len, uint64_t v)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- LZ4 blocks (lz4_Block_format.md) ------------------------------------------------------- */

static void expect_block(const uint8_t *in, size_t len, size_t cap, long ret, const char *out)
{
	uint8_t buf[64];

	assert_true(cap <= sizeof(buf));
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(lz4_block_decode(in, len, buf, cap), ret);
	if (ret > 0)
		assert_memory_equal(buf, out, (size_t)ret);
	/* Nothing is written past what the decoder was given. */
	for (size_t i = cap; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

static void test_lz4_literals_and_matches(void **state)
{
	(void)state;
	/* Literals only: the last sequence. */
	expect_block((const uint8_t *)"\x30" "abc", 4, 64, 3, "abc");
	/* "ab", then a match 2 back of 4 + 2 bytes: overlapping, the pair repeats. */
	expect_block((const uint8_t *)"\x22" "ab" "\x02\x00" "\x10" "z", 7, 64, 9, "abababab" "z");
	/* One literal, a match 1 back of 4 + 15 + 3 bytes (run length), then "!" */
	char run[25];
	memset(run, 'x', 23);
	memcpy(run + 23, "!", 2);
	expect_block((const uint8_t *)"\x1f" "x" "\x01\x00" "\x03" "\x10" "!", 7, 64, 24, run);
	/* A literal length of 15 + 0 continues into the next byte. */
	expect_block((const uint8_t *)"\xf0\x00" "0123456789abcde", 17, 64, 15, "0123456789abcde");
	/* Exactly the room it needs. */
	expect_block((const uint8_t *)"\x30" "abc", 4, 3, 3, "abc");
}

static void test_lz4_rejects(void **state)
{
	(void)state;
	expect_block((const uint8_t *)"", 0, 64, -EINVAL, NULL);               /* empty */
	expect_block((const uint8_t *)"\x40" "abc", 4, 64, -EINVAL, NULL);     /* literals past the end */
	expect_block((const uint8_t *)"\x30" "abc", 4, 2, -ENOSPC, NULL);      /* no room */
	expect_block((const uint8_t *)"\x10" "a" "\x02\x00" "\x00" "z", 6, 64, -EINVAL, NULL); /* 2 back of 1 */
	expect_block((const uint8_t *)"\x10" "a" "\x00\x00" "\x00" "z", 6, 64, -EINVAL, NULL); /* offset 0 */
	expect_block((const uint8_t *)"\x10" "a" "\x01", 3, 64, -EINVAL, NULL); /* half an offset */
	expect_block((const uint8_t *)"\x1f" "a" "\x01\x00" "\xff", 5, 64, -ENOSPC, NULL); /* run too long */
	expect_block((const uint8_t *)"\xf0", 1, 64, -EINVAL, NULL); /* a length cut short */
	expect_block((const uint8_t *)"\x10" "a" "\x01\x00", 4, 64, -EINVAL, NULL); /* ends on a match */
}

/* A legacy stream: the magic, then a literal-only block per part. Returns its length. */
static size_t lz4_stream(uint8_t *out, const char *const *parts, size_t n)
{
	size_t len = 4;

	put_le(out, 4, LZ4_LEGACY_MAGIC);
	for (size_t i = 0; i < n; i++) {
		size_t plen = strlen(parts[i]);

		assert_true(plen < 15);
		put_le(out + len, 4, plen + 1);
		out[len + 4] = (uint8_t)(plen << 4);
		memcpy(out + len + 5, parts[i], plen);
		len += 5 + plen;
	}
	return len;
}

static void test_lz4_legacy_stream(void **state)
{
	static const char *const parts[] = { "hello ", "world" };
	uint8_t in[64], out[32];
	size_t len = lz4_stream(in, parts, 2);

	(void)state;
	assert_int_equal(lz4_legacy_decode(in, len, out, sizeof(out)), 11);
	assert_memory_equal(out, "hello world", 11);
	assert_int_equal(lz4_legacy_decode(in, len, out, 10), -ENOSPC);
	assert_int_equal(lz4_legacy_decode(in, len - 1, out, sizeof(out)), -EINVAL); /* cut block */
	assert_int_equal(lz4_legacy_decode(in, len + 2, out, sizeof(out)), -EINVAL); /* stray bytes */
	in[0] ^= 1;
	assert_int_equal(lz4_legacy_decode(in, len, out, sizeof(out)), -EINVAL); /* no magic */
	in[0] ^= 1;
	/* A second stream's magic between blocks starts a new stream. */
	memmove(in + 19, in + 15, len - 15);
	put_le(in + 15, 4, LZ4_LEGACY_MAGIC);
	assert_int_equal(lz4_legacy_decode(in, len + 4, out, sizeof(out)), 11);
	assert_memory_equal(out, "hello world", 11);
	put_le(in + 4, 4, 0); /* an empty block */
	assert_int_equal(lz4_legacy_decode(in, len + 4, out, sizeof(out)), -EINVAL);
}

/* --- SHA-256: FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values") -------------- */

static void expect_sha256(const void *data, size_t len, const char *hex)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char got[2 * SHA256_DIGEST_SIZE + 1];

	sha256(data, len, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(got, hex);
}

static void test_sha256_vectors(void **state)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t *million = malloc(1000000);

	(void)state;
	assert_non_null(million);
	expect_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect_sha256(two_blocks, sizeof(two_blocks) - 1,
		      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	expect_sha256(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* --- x86_kernel_unpack: a bzImage (boot.rst offsets) whose payload is an LZ4 stream ---------- */

#define UB_SETUP_SECTS 1
#define UB_KERNEL_OFFSET ((UB_SETUP_SECTS + 1) * 512)
#define UB_ELF_SIZE 64

/* A bzImage whose payload decompresses to 64 bytes starting with the ELF magic. Returns its size. */
static size_t ub_make(uint8_t *f, size_t cap)
{
	uint8_t elf[UB_ELF_SIZE];
	size_t p = UB_KERNEL_OFFSET, len;

	assert_true(cap >= UB_KERNEL_OFFSET + 4 + 4 + 2 + UB_ELF_SIZE + 4);
	memset(f, 0, cap);
	memset(elf, 0x41, sizeof(elf));
	memcpy(elf, "\x7f" "ELF", 4);
	f[0x1f1] = UB_SETUP_SECTS;
	f[0x201] = 0x26c - 0x202;
	memcpy(f + 0x202, "HdrS", 4);
	put_le(f + 0x206, 2, 0x020f);
	put_le(f + 0x236, 2, 0x1);     /* XLF_KERNEL_64 */
	put_le(f + 0x258, 8, 0x1000000);
	put_le(f + 0x260, 4, 0x100000); /* init_size */
	put_le(f + p, 4, LZ4_LEGACY_MAGIC);
	put_le(f + p + 4, 4, 2 + UB_ELF_SIZE); /* token, one length byte, the literals */
	f[p + 8] = 0xf0;
	f[p + 9] = UB_ELF_SIZE - 15;
	memcpy(f + p + 10, elf, UB_ELF_SIZE);
	put_le(f + p + 10 + UB_ELF_SIZE, 4, UB_ELF_SIZE);
	len = 10 + UB_ELF_SIZE + 4;
	put_le(f + 0x248, 4, 0); /* payload_offset from the protected-mode code */
	put_le(f + 0x24c, 4, len);
	return UB_KERNEL_OFFSET + len;
}

static void test_unpack_lz4_bzimage(void **state)
{
	uint8_t f[2048], *elf = NULL;
	size_t size = ub_make(f, sizeof(f)), elf_size = 0;

	(void)state;
	assert_int_equal(x86_kernel_unpack(f, size, NULL, NULL), 0);
	assert_int_equal(x86_kernel_unpack(f, size, &elf, &elf_size), 0);
	assert_int_equal(elf_size, UB_ELF_SIZE);
	assert_memory_equal(elf, "\x7f" "ELF" "AAAA", 8);
	munmap(elf, elf_size);
}

static void test_unpack_refuses(void **state)
{
	uint8_t f[2048], *elf = NULL;
	size_t size = ub_make(f, sizeof(f)), elf_size = 0;

	(void)state;
	/* Not LZ4 (gzip's magic): the guest decompresses it. */
	memcpy(f + UB_KERNEL_OFFSET, "\x1f\x8b\x08\x00", 4);
	assert_int_equal(x86_kernel_unpack(f, size, &elf, &elf_size), -ENOTSUP);
	size = ub_make(f, sizeof(f));
	/* Protocol 2.07 has no payload fields. */
	put_le(f + 0x206, 2, 0x0207);
	assert_int_equal(x86_kernel_unpack(f, size, &elf, &elf_size), -ENOEXEC);
	size = ub_make(f, sizeof(f));
	/* The trailer promises more than the stream holds. */
	put_le(f + size - 4, 4, UB_ELF_SIZE + 1);
	assert_int_equal(x86_kernel_unpack(f, size, &elf, &elf_size), -ENOEXEC);
	/* ... or more than init_size, or than 512 MiB (a bomb) whatever init_size says. */
	put_le(f + size - 4, 4, 0x100001);
	assert_int_equal(x86_kernel_unpack(f, size, &elf, &elf_size), -ENOEXEC);
	put_le(f + 0x260, 4, 0xffffffff);
	put_le(f + size - 4, 4, (512u << 20) + 1);
	assert_int_equal(x86_kernel_unpack(f, size, NULL, NULL), -ENOEXEC); /* refused before decoding */
	size = ub_make(f, sizeof(f));
	/* The payload runs past the file's end. */
	assert_int_equal(x86_kernel_unpack(f, size - 1, &elf, &elf_size), -ENOEXEC);
	/* Not an ELF inside. */
	f[UB_KERNEL_OFFSET + 10] = 0;
	assert_int_equal(x86_kernel_unpack(f, size, &elf, &elf_size), -ENOTSUP);
	assert_null(elf);
	/* Not a bzImage. */
	assert_int_equal(x86_kernel_unpack(f, 0x200, &elf, &elf_size), -ENOTSUP);
}

/* --- the cache -------------------------------------------------------------------------------- */

static int cache_setup(void **state)
{
	(void)state;
	assert_int_equal(scratch_make_dir("kcache"), 0);
	setenv("KILN_CACHE", scratch_path("c"), 1);
	return 0;
}

static int cache_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("KILN_CACHE");
	return 0;
}

static void test_cache_store_and_open(void **state)
{
	static const uint8_t data[] = "a decompressed kernel";
	struct kernel_cache_entry e;
	uint8_t digest[SHA256_DIGEST_SIZE], other[SHA256_DIGEST_SIZE];
	char path[4096];
	struct stat st;

	(void)state;
	sha256("source", 6, digest);
	sha256("another", 7, other);
	assert_int_equal(kernel_cache_open(digest, &e), -ENOENT);
	assert_int_equal(kernel_cache_store(digest, data, sizeof(data)), 0);
	assert_int_equal(kernel_cache_open(digest, &e), 0);
	assert_int_equal(e.size, sizeof(data));
	assert_memory_equal(e.data, data, sizeof(data));
	kernel_cache_close(&e);
	assert_int_equal(kernel_cache_open(other, &e), -ENOENT);
	/* The directories are the user's alone. */
	assert_int_equal(stat(scratch_path("c/vmlinux"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* An entry under another digest's name (renamed, or another's file) is refused. */
	assert_int_equal(kernel_cache_path(digest, path, sizeof(path)), 0);
	char other_path[4096];
	assert_int_equal(kernel_cache_path(other, other_path, sizeof(other_path)), 0);
	assert_int_equal(link(path, other_path), 0);
	assert_int_equal(kernel_cache_open(other, &e), -EINVAL);
	/* So is one others may write, and a truncated one. */
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(kernel_cache_open(digest, &e), -EINVAL);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 40), 0);
	assert_int_equal(kernel_cache_open(digest, &e), -EINVAL);
	/* A symbolic link is not followed. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(other_path, path), 0);
	assert_int_equal(kernel_cache_open(digest, &e), -EINVAL);
}

static void test_cache_without_a_home(void **state)
{
	uint8_t digest[SHA256_DIGEST_SIZE] = { 0 };
	char path[128];
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CACHE_HOME");
	char *saved_home = home ? strdup(home) : NULL, *saved_xdg = xdg ? strdup(xdg) : NULL;

	(void)state;
	unsetenv("KILN_CACHE");
	unsetenv("HOME");
	setenv("XDG_CACHE_HOME", "relative/ignored", 1);
	assert_int_equal(kernel_cache_path(digest, path, sizeof(path)), -ENOENT);
	setenv("XDG_CACHE_HOME", "/x", 1);
	assert_int_equal(kernel_cache_path(digest, path, sizeof(path)), 0);
	assert_string_equal(path, "/x/kiln/vmlinux/"
				  "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(kernel_cache_path(digest, path, 20), -ENAMETOOLONG);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	if (saved_xdg)
		setenv("XDG_CACHE_HOME", saved_xdg, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	free(saved_home);
	free(saved_xdg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lz4_literals_and_matches),
		cmocka_unit_test(test_lz4_rejects),
		cmocka_unit_test(test_lz4_legacy_stream),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_unpack_lz4_bzimage),
		cmocka_unit_test(test_unpack_refuses),
		cmocka_unit_test_setup_teardown(test_cache_store_and_open, cache_setup, cache_teardown),
		cmocka_unit_test(test_cache_without_a_home),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
