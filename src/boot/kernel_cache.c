/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* mkostemp */
#include "boot/kernel_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KERNEL_CACHE_MAGIC "KILNKC01" /* the last two characters: the format's version */
#define KERNEL_CACHE_DIR_MODE 0700

struct kernel_cache_header {
	char magic[8];
	uint8_t digest[SHA256_DIGEST_SIZE];
	uint64_t size; /* of the data after the header */
};

/* The cache's directory: $KILN_CACHE, $XDG_CACHE_HOME/kiln or $HOME/.cache/kiln; then /vmlinux. */
static int kernel_cache_dir(char *out, size_t outlen)
{
	const char *kiln = getenv("KILN_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (kiln != NULL && kiln[0] == '/')
		n = snprintf(out, outlen, "%s/vmlinux", kiln);
	else if (xdg != NULL && xdg[0] == '/') /* XDG Base Directory: relative paths are ignored */
		n = snprintf(out, outlen, "%s/kiln/vmlinux", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.cache/kiln/vmlinux", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int kernel_cache_path(const uint8_t digest[SHA256_DIGEST_SIZE], char *out, size_t outlen)
{
	int rc = kernel_cache_dir(out, outlen);
	size_t len;

	if (rc < 0)
		return rc;
	len = strlen(out);
	if (outlen - len < sizeof("/") + 2 * SHA256_DIGEST_SIZE)
		return -ENAMETOOLONG;
	out[len++] = '/';
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++, len += 2)
		snprintf(out + len, 3, "%02x", digest[i]);
	return 0;
}

/* A file only this user can have written: regular, owned by the effective user, not group/other-writable. */
static int kernel_cache_check_file(int fd, size_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    st.st_size < (off_t)sizeof(struct kernel_cache_header))
		return -EINVAL;
	*size = (size_t)st.st_size;
	return 0;
}

int kernel_cache_open(const uint8_t digest[SHA256_DIGEST_SIZE], struct kernel_cache_entry *e)
{
	struct kernel_cache_header h;
	char path[4096];
	size_t size = 0;
	void *map;
	int fd, rc = kernel_cache_path(digest, path, sizeof(path));

	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EINVAL;
	rc = kernel_cache_check_file(fd, &size);
	map = rc == 0 ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (map == MAP_FAILED)
		return -EINVAL;
	memcpy(&h, map, sizeof(h));
	if (memcmp(h.magic, KERNEL_CACHE_MAGIC, sizeof(h.magic)) != 0 ||
	    memcmp(h.digest, digest, SHA256_DIGEST_SIZE) != 0 || h.size != size - sizeof(h)) {
		munmap(map, size);
		return -EINVAL;
	}
	*e = (struct kernel_cache_entry){ .data = (const uint8_t *)map + sizeof(h), .size = h.size,
					  .map = map, .map_len = size };
	return 0;
}

void kernel_cache_close(struct kernel_cache_entry *e)
{
	if (e->map != NULL)
		munmap(e->map, e->map_len);
	*e = (struct kernel_cache_entry){ 0 };
}

/* mkdir -p of path's components (made 0700; existing ones are left as they are). */
static int kernel_cache_mkdirs(char *path)
{
	for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
		if (p != NULL)
			*p = '\0';
		int rc = mkdir(path, KERNEL_CACHE_DIR_MODE) < 0 && errno != EEXIST ? -errno : 0;

		if (p != NULL)
			*p = '/';
		if (rc < 0 || p == NULL)
			return rc;
	}
}

static int kernel_cache_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kernel_cache_store(const uint8_t digest[SHA256_DIGEST_SIZE], const uint8_t *data, size_t size)
{
	struct kernel_cache_header h = { .size = size };
	char path[4096], tmp[4096 + 16];
	char *slash;
	int fd, rc = kernel_cache_path(digest, path, sizeof(path));

	if (rc < 0)
		return rc;
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = kernel_cache_mkdirs(path);
	*slash = '/';
	if (rc < 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return -errno;
	memcpy(h.magic, KERNEL_CACHE_MAGIC, sizeof(h.magic));
	memcpy(h.digest, digest, SHA256_DIGEST_SIZE);
	rc = kernel_cache_write_all(fd, &h, sizeof(h));
	if (rc == 0)
		rc = kernel_cache_write_all(fd, data, size);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
