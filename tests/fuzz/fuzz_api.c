/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the control plane's request parser and JSON-to-config step, from a hostile API
 * client or config file (api/route.c, api/parse.c, api/json.c, api/config_file.c), then the VM
 * side's checks and GET bodies (api/vmm.c, api/describe.c) for what a parsed request asks.
 *
 * Input: one selector byte, then the rest.
 *   bit 0 of the selector: 0 an HTTP request, 1 a config file (the rest is the file)
 *   bits 1..: the method, (selector >> 1) % 5 of GET PUT PATCH POST DELETE
 *   a request's rest: the path up to the first '\n' (at most 255 bytes), then the body
 * Requests that parse are applied to a fresh pre-boot configuration when they touch no file and
 * start nothing (machine config, network interfaces, vsock, entropy, the GETs, a snapshot before
 * boot): every reply must be 204, 200 with a body, or 400 with a fault_message.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/config_file.h"
#include "api/route.h"
#include "api/vmm.h"
#include "fuzz/fuzz_check.h"

#define FUZZ_PATH_MAX 256

/*
 * libkiln's VM calls: the target never starts a VM (InstanceStart is not applied), so these are
 * only reached by a bug, which they turn into a crash.
 */
int kiln_vm_create(const struct kiln_config *cfg, struct kiln_vm **vm, struct kiln_error *err)
{
	(void)cfg, (void)vm, (void)err;
	abort();
}

int kiln_vm_start(struct kiln_vm *vm, struct kiln_error *err)
{
	(void)vm, (void)err;
	abort();
}

void kiln_vm_destroy(struct kiln_vm *vm)
{
	fuzz_check(vm == NULL);
}

void kiln_vm_destroy_before_exit(struct kiln_vm *vm)
{
	fuzz_check(vm == NULL);
}

int kiln_vm_pause(struct kiln_vm *vm)
{
	(void)vm;
	abort();
}

int kiln_vm_resume(struct kiln_vm *vm)
{
	(void)vm;
	abort();
}

enum kiln_vm_state kiln_vm_get_state(struct kiln_vm *vm)
{
	(void)vm;
	abort();
}

int kiln_vm_send_ctrl_alt_del(struct kiln_vm *vm)
{
	(void)vm;
	abort();
}

int kiln_vm_update_disk(struct kiln_vm *vm, unsigned int index, const char *path, struct kiln_error *err)
{
	(void)vm, (void)index, (void)path, (void)err;
	abort();
}

int kiln_vm_write_metrics(struct kiln_vm *vm, int fd)
{
	(void)vm, (void)fd;
	abort();
}

const struct kiln_config *kiln_vm_config(struct kiln_vm *vm)
{
	(void)vm;
	abort();
}

int kiln_vm_snapshot_flags(struct kiln_vm *vm, const char *state_path, const char *mem_path, unsigned int flags,
			   struct kiln_error *err)
{
	(void)vm, (void)state_path, (void)mem_path, (void)flags, (void)err;
	abort();
}

void kiln_restore_init_sized(struct kiln_restore *rs, size_t size)
{
	(void)rs, (void)size;
	abort();
}

int kiln_vm_restore(const struct kiln_restore *rs, struct kiln_vm **vm, struct kiln_error *err)
{
	(void)rs, (void)vm, (void)err;
	abort();
}

int kiln_vm_restore_from(const struct kiln_snapshot *snap, const struct kiln_restore *rs, struct kiln_vm **vm,
			 struct kiln_error *err)
{
	(void)snap, (void)rs, (void)vm, (void)err;
	abort();
}

/* The kinds applied: no file opened, no VM started (a snapshot before boot is refused). */
static bool harmless(enum api_kind k)
{
	return k <= API_GET_VM_CONFIG || k == API_PUT_MACHINE || k == API_PATCH_MACHINE || k == API_PUT_NET ||
	       k == API_PUT_VSOCK || k == API_PUT_ENTROPY || k == API_SNAPSHOT_CREATE;
}

static void check_reply(const struct api_reply *r)
{
	fuzz_check(r->status == 200 || r->status == 204 || r->status == 400);
	fuzz_check((r->status == 204) == (r->body == NULL));
	fuzz_check(r->status != 400 || (r->fault[0] && strstr(r->body, "\"fault_message\"")));
}

static void fuzz_request(const char *method, const uint8_t *data, size_t len)
{
	static struct api_vmm vmm;
	static struct api_action a;
	const struct api_vmm_options opt = { .id = "fuzz", .default_boot_args = "console=ttyS0" };
	char path[FUZZ_PATH_MAX], fault[API_ERR_LEN];
	const uint8_t *nl = memchr(data, '\n', len < FUZZ_PATH_MAX ? len : FUZZ_PATH_MAX - 1);
	size_t plen = nl ? (size_t)(nl - data) : 0;

	if (nl == NULL)
		return;
	memcpy(path, data, plen);
	path[plen] = '\0';
	if (strlen(path) != plen)
		return; /* api/http.c hands over C strings: no NUL inside a path */
	const char *body = (const char *)nl + 1;
	size_t blen = len - plen - 1;
	if (api_route(method, path, body, blen, &a, fault, sizeof(fault)) < 0) {
		fuzz_check(fault[0] != '\0');
		return;
	}
	if (!harmless(a.kind))
		return;
	struct api_reply r;
	api_vmm_init(&vmm, &opt);
	api_vmm_apply(&vmm, &a, &r);
	check_reply(&r);
	api_reply_free(&r);
	a.kind = API_GET_VM_CONFIG; /* and what the configuration looks like now */
	api_vmm_apply(&vmm, &a, &r);
	check_reply(&r);
	fuzz_check(r.status == 200);
	api_reply_free(&r);
	api_vmm_destroy(&vmm);
}

static void fuzz_config_file(const uint8_t *data, size_t len)
{
	static struct api_action out[API_CONFIG_MAX_ACTIONS];
	char err[API_ERR_LEN];
	size_t n = 0;

	if (api_config_file_parse((const char *)data, len, out, &n, err, sizeof(err)) < 0) {
		fuzz_check(n == 0 && err[0] != '\0');
		return;
	}
	fuzz_check(n >= 2 && n <= API_CONFIG_MAX_ACTIONS && out[n - 1].kind == API_INSTANCE_START);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const methods[] = { "GET", "PUT", "PATCH", "POST", "DELETE" };

	if (len < 1)
		return 0;
	if (data[0] & 1)
		fuzz_config_file(data + 1, len - 1);
	else
		fuzz_request(methods[(data[0] >> 1) % 5], data + 1, len - 1);
	return 0;
}
