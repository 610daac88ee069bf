/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Section VCPU/<id>, in this order: u32 TSC kHz, then the KVM structures as KVM defines them
 * (linux/kvm.h, x86): mp_state, regs, sregs, u32 XSAVE size + the area, xcrs, debugregs, lapic,
 * u32 MSR count + (u32 index, u64 value) each, the CPUID entries (u32 count + entries), and
 * vcpu_events last (api.rst: events saved last, as Firecracker does, so nothing is injected after).
 */
#include "arch/x86/vcpu_snapshot.h"

#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/kvm_x86.h"
#include "kvm/kvm.h"
#include "log.h"

/* The ranges kiln saves: architectural, AMD/extended, and KVM's paravirtual MSRs (clock, async PF,
 * steal time, PV EOI). KVM may list others (Hyper-V) that a kiln guest never enables. */
static const struct { uint32_t first, last; } msr_ranges[] = {
	{ 0x00000000, 0x00001fff },
	{ 0xc0000000, 0xc0001fff },
	{ 0x4b564d00, 0x4b564dff },
};

#define X86_MAX_SNAP_MSRS 1024
#define X86_MAX_CPUID_ENTRIES 256
#define TSC_TOLERANCE_PPM 250 /* Firecracker rescales beyond this */

static bool msr_in_ranges(uint32_t index)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_ranges); i++)
		if (index >= msr_ranges[i].first && index <= msr_ranges[i].last)
			return true;
	return false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int x86_msr_set_init(struct x86_msr_set *set, int kvm_fd)
{
	struct kvm_msr_list *list;
	int rc = kvm_msr_index_list(kvm_fd, &list);
	int xsave2 = kvm_check_extension(kvm_fd, KVM_CAP_XSAVE2);

	*set = (struct x86_msr_set){ .xsave_size = sizeof(struct kvm_xsave) };
	if (rc < 0)
		return rc;
	set->indices = calloc(list->nmsrs ? list->nmsrs : 1, sizeof(set->indices[0]));
	if (set->indices == NULL) {
		free(list);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < list->nmsrs && set->count < X86_MAX_SNAP_MSRS; i++)
		if (msr_in_ranges(list->indices[i]))
			set->indices[set->count++] = list->indices[i];
	free(list);
	qsort(set->indices, set->count, sizeof(set->indices[0]), cmp_u32);
	if (xsave2 > (int)sizeof(struct kvm_xsave))
		set->xsave_size = (size_t)xsave2;
	return 0;
}

void x86_msr_set_free(struct x86_msr_set *set)
{
	free(set->indices);
	*set = (struct x86_msr_set){ 0 };
}

static bool msr_in_set(const struct x86_msr_set *set, uint32_t index)
{
	return bsearch(&index, set->indices, set->count, sizeof(index), cmp_u32) != NULL;
}

/* Everything of one vCPU, as saved and as loaded. */
struct vcpu_image {
	uint32_t tsc_khz;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave; /* xsave_size bytes */
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_msrs *msrs;   /* count entries */
	struct kvm_cpuid2 *cpuid;
	struct kvm_vcpu_events events;
};

static void image_free(struct vcpu_image *img)
{
	free(img->xsave);
	free(img->msrs);
	free(img->cpuid);
}

static int image_alloc(struct vcpu_image *img, size_t xsave_size, unsigned int nmsrs, unsigned int ncpuid)
{
	*img = (struct vcpu_image){ 0 };
	img->xsave = calloc(1, xsave_size);
	img->msrs = calloc(1, sizeof(*img->msrs) + nmsrs * sizeof(img->msrs->entries[0]));
	img->cpuid = calloc(1, sizeof(*img->cpuid) + ncpuid * sizeof(img->cpuid->entries[0]));
	if (img->xsave == NULL || img->msrs == NULL || img->cpuid == NULL) {
		image_free(img);
		return -ENOMEM;
	}
	img->msrs->nmsrs = nmsrs;
	img->cpuid->nent = ncpuid;
	return 0;
}

/*
 * KVM_GET_MSRS stops at the first MSR it cannot read (one the guest's CPUID hides) and returns
 * how many it read: keep those, skip the refused one, and ask again for the rest.
 */
static int read_msrs(int vcpu_fd, const struct x86_msr_set *set, struct kvm_msrs *out)
{
	struct kvm_msrs *batch = calloc(1, sizeof(*batch) + set->count * sizeof(batch->entries[0]));
	unsigned int kept = 0;
	int rc = 0;

	if (batch == NULL)
		return -ENOMEM;
	for (unsigned int next = 0; next < set->count;) {
		unsigned int n = set->count - next;

		batch->nmsrs = n;
		for (unsigned int i = 0; i < n; i++)
			batch->entries[i] = (struct kvm_msr_entry){ .index = set->indices[next + i] };
		rc = kvm_get_msrs(vcpu_fd, batch);
		if (rc < 0)
			break;
		memcpy(&out->entries[kept], batch->entries, (size_t)rc * sizeof(batch->entries[0]));
		kept += (unsigned int)rc;
		next += (unsigned int)rc + ((unsigned int)rc < n);
		rc = 0;
	}
	out->nmsrs = kept;
	free(batch);
	return rc;
}

static int ioctl_failed(unsigned int id, const char *what, int rc)
{
	log_error("snapshot", "vCPU %u: %s: %s", id, what, strerror(-rc));
	return rc;
}

/* mp_state first: reading it makes KVM deliver pending LAPIC events into the state (Firecracker). */
static int fetch_image(int fd, unsigned int id, const struct x86_msr_set *set, struct vcpu_image *img)
{
	int rc = kvm_get_tsc_khz(fd);

	if (rc < 0)
		return ioctl_failed(id, "KVM_GET_TSC_KHZ", rc);
	img->tsc_khz = (uint32_t)rc;
	if ((rc = kvm_get_mp_state(fd, &img->mp)) < 0)
		return ioctl_failed(id, "KVM_GET_MP_STATE", rc);
	if ((rc = kvm_get_regs(fd, &img->regs)) < 0)
		return ioctl_failed(id, "KVM_GET_REGS", rc);
	if ((rc = kvm_get_sregs(fd, &img->sregs)) < 0)
		return ioctl_failed(id, "KVM_GET_SREGS", rc);
	if ((rc = kvm_get_xsave(fd, img->xsave, set->xsave_size)) < 0)
		return ioctl_failed(id, "KVM_GET_XSAVE", rc);
	if ((rc = kvm_get_xcrs(fd, &img->xcrs)) < 0)
		return ioctl_failed(id, "KVM_GET_XCRS", rc);
	if ((rc = kvm_get_debugregs(fd, &img->dbg)) < 0)
		return ioctl_failed(id, "KVM_GET_DEBUGREGS", rc);
	if ((rc = kvm_get_lapic(fd, &img->lapic)) < 0)
		return ioctl_failed(id, "KVM_GET_LAPIC", rc);
	if ((rc = read_msrs(fd, set, img->msrs)) < 0)
		return ioctl_failed(id, "KVM_GET_MSRS", rc);
	if ((rc = kvm_get_cpuid(fd, img->cpuid)) < 0)
		return ioctl_failed(id, "KVM_GET_CPUID2", rc);
	if ((rc = kvm_get_vcpu_events(fd, &img->events)) < 0)
		return ioctl_failed(id, "KVM_GET_VCPU_EVENTS", rc);
	return 0;
}

static void put_image(struct snap_writer *w, unsigned int id, size_t xsave_size, const struct vcpu_image *img)
{
	snap_begin(w, X86_SNAP_TAG_VCPU, id);
	snap_put_u32(w, img->tsc_khz);
	snap_put_bytes(w, &img->mp, sizeof(img->mp));
	snap_put_bytes(w, &img->regs, sizeof(img->regs));
	snap_put_bytes(w, &img->sregs, sizeof(img->sregs));
	snap_put_u32(w, (uint32_t)xsave_size);
	snap_put_bytes(w, img->xsave, xsave_size);
	snap_put_bytes(w, &img->xcrs, sizeof(img->xcrs));
	snap_put_bytes(w, &img->dbg, sizeof(img->dbg));
	snap_put_bytes(w, &img->lapic, sizeof(img->lapic));
	snap_put_u32(w, img->msrs->nmsrs);
	for (uint32_t i = 0; i < img->msrs->nmsrs; i++) {
		snap_put_u32(w, img->msrs->entries[i].index);
		snap_put_u64(w, img->msrs->entries[i].data);
	}
	snap_put_u32(w, img->cpuid->nent);
	snap_put_bytes(w, img->cpuid->entries, img->cpuid->nent * sizeof(img->cpuid->entries[0]));
	snap_put_bytes(w, &img->events, sizeof(img->events));
	snap_end(w);
}

int x86_vcpu_save(int vcpu_fd, unsigned int id, const struct x86_msr_set *set, struct snap_writer *w)
{
	struct vcpu_image img;
	int rc = image_alloc(&img, set->xsave_size, set->count, X86_MAX_CPUID_ENTRIES);

	if (rc == 0)
		rc = fetch_image(vcpu_fd, id, set, &img);
	if (rc == 0)
		put_image(w, id, set->xsave_size, &img);
	image_free(&img);
	return rc;
}

/* The MSR list: at most what this host saves, ascending, each one this host saves. */
static int get_msrs(struct snap_cursor *c, const struct x86_msr_set *set, struct kvm_msrs *msrs,
		    char *why, size_t whylen)
{
	uint32_t n = snap_get_u32_in(c, 0, set->count);

	for (uint32_t i = 0; i < n && c->err == 0; i++) {
		uint32_t index = snap_get_u32(c);

		msrs->entries[i] = (struct kvm_msr_entry){ .index = index, .data = snap_get_u64(c) };
		if (c->err == 0 && !msr_in_set(set, index))
			return fail_with(why, whylen, -EINVAL, "MSR %#x is not one this host's KVM saves", index);
		if (c->err == 0 && i > 0 && index <= msrs->entries[i - 1].index)
			return fail_with(why, whylen, -EBADMSG, "MSR %#x is out of order", index);
	}
	msrs->nmsrs = c->err ? 0 : n;
	return 0;
}

static int get_image(struct snap_cursor *c, const struct x86_msr_set *set, struct vcpu_image *img,
		     char *why, size_t whylen)
{
	int rc;

	img->tsc_khz = snap_get_u32_in(c, 1, UINT32_MAX);
	snap_get_bytes(c, &img->mp, sizeof(img->mp));
	snap_get_bytes(c, &img->regs, sizeof(img->regs));
	snap_get_bytes(c, &img->sregs, sizeof(img->sregs));
	if (snap_get_u32(c) != set->xsave_size && c->err == 0)
		return fail_with(why, whylen, -EINVAL, "its XSAVE area differs from this host's %zu bytes",
				 set->xsave_size);
	snap_get_bytes(c, img->xsave, set->xsave_size);
	snap_get_bytes(c, &img->xcrs, sizeof(img->xcrs));
	snap_get_bytes(c, &img->dbg, sizeof(img->dbg));
	snap_get_bytes(c, &img->lapic, sizeof(img->lapic));
	rc = get_msrs(c, set, img->msrs, why, whylen);
	if (rc < 0)
		return rc;
	img->cpuid->nent = snap_get_u32_in(c, 1, X86_MAX_CPUID_ENTRIES);
	snap_get_bytes(c, img->cpuid->entries, img->cpuid->nent * sizeof(img->cpuid->entries[0]));
	snap_get_bytes(c, &img->events, sizeof(img->events));
	if (snap_cursor_finish(c) < 0)
		return fail_with(why, whylen, -EBADMSG, "its section is malformed");
	/* The x86 states (api.rst, KVM_SET_MP_STATE); KVM itself checks the rest of each structure. */
	if (img->mp.mp_state > KVM_MP_STATE_SIPI_RECEIVED)
		return fail_with(why, whylen, -EINVAL, "mp_state %u is not an x86 state", img->mp.mp_state);
	return 0;
}

/* Firecracker's rule: a TSC within 250 ppm is the same clock; beyond it KVM must rescale. */
static int match_tsc(int fd, uint32_t khz, char *why, size_t whylen)
{
	int host = kvm_get_tsc_khz(fd);

	if (host < 0)
		return fail_with(why, whylen, host, "KVM_GET_TSC_KHZ: %s", strerror(-host));
	uint64_t diff = (uint64_t)host > khz ? (uint64_t)host - khz : khz - (uint64_t)host;
	if (diff * 1000000 <= (uint64_t)khz * TSC_TOLERANCE_PPM)
		return 0;
	int rc = kvm_set_tsc_khz(fd, khz);
	return rc < 0 ? fail_with(why, whylen, rc, "its TSC ran at %u kHz, this host's at %d kHz, and KVM "
				  "cannot scale it: %s", khz, host, strerror(-rc)) : 0;
}

/* The host's CPU is AMD's or Hygon's: KVM drives it through SVM. */
static bool host_is_svm(void)
{
	unsigned int eax, ebx, ecx, edx;
	char vendor[13];

	if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
		return false;
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = '\0';
	return strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0;
}

/*
 * KVM on AMD reports the task register as busy (type 11) whatever the VMCB holds (svm.c,
 * svm_get_segment: "the busy flag in the tr selector isn't exposed"), and sets what it is given.
 * Give SVM back the available type (9) VMRUN loaded: the busy flag lives in the GDT in guest
 * memory, restored with it, and an emulated SVM (QEMU's, the KVM test host's) faults every
 * user-mode port access under a busy TR. VMX needs 11 (SDM vol. 3C §26.3.1.2) and keeps it.
 */
static void tr_as_svm_loaded(struct kvm_sregs *sregs)
{
	if (sregs->tr.type == 11 && host_is_svm())
		sregs->tr.type = 9;
}

/* The order KVM needs: CPUID before anything it governs, the TSC frequency before the TSC MSR,
 * LAPIC before MSRs (TSC_DEADLINE), events last (Firecracker's restore order). */
static int apply_image(int fd, const struct vcpu_image *img, char *why, size_t whylen)
{
	int rc = kvm_set_cpuid(fd, img->cpuid);

	if (rc < 0)
		return fail_with(why, whylen, rc, "KVM_SET_CPUID2: %s", strerror(-rc));
	if ((rc = match_tsc(fd, img->tsc_khz, why, whylen)) < 0)
		return rc;
	if ((rc = kvm_set_mp_state(fd, &img->mp)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_MP_STATE: %s", strerror(-rc));
	if ((rc = kvm_set_regs(fd, &img->regs)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_REGS: %s", strerror(-rc));
	struct kvm_sregs sregs = img->sregs;
	tr_as_svm_loaded(&sregs);
	if ((rc = kvm_set_sregs(fd, &sregs)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_SREGS: %s", strerror(-rc));
	if ((rc = kvm_set_xsave(fd, img->xsave)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_XSAVE: %s", strerror(-rc));
	if ((rc = kvm_set_xcrs(fd, &img->xcrs)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_XCRS: %s", strerror(-rc));
	if ((rc = kvm_set_debugregs(fd, &img->dbg)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_DEBUGREGS: %s", strerror(-rc));
	if ((rc = kvm_set_lapic(fd, &img->lapic)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_LAPIC: %s", strerror(-rc));
	if ((rc = kvm_set_msrs(fd, img->msrs)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_MSRS: %s", strerror(-rc));
	if ((uint32_t)rc < img->msrs->nmsrs)
		return fail_with(why, whylen, -EINVAL, "KVM refused MSR %#x", img->msrs->entries[rc].index);
	if ((rc = kvm_set_vcpu_events(fd, &img->events)) < 0)
		return fail_with(why, whylen, rc, "KVM_SET_VCPU_EVENTS: %s", strerror(-rc));
	return 0;
}

int x86_vcpu_load(int vcpu_fd, unsigned int id, const struct x86_msr_set *set, const struct snap_reader *r,
		  char *why, size_t whylen)
{
	struct vcpu_image img;
	struct snap_cursor c;
	int rc = snap_open_section(r, X86_SNAP_TAG_VCPU, id, &c);

	if (rc < 0)
		return fail_with(why, whylen, -EINVAL, "it has no state for vCPU %u", id);
	rc = image_alloc(&img, set->xsave_size, set->count, X86_MAX_CPUID_ENTRIES);
	if (rc < 0)
		return fail_with(why, whylen, rc, "out of memory");
	rc = get_image(&c, set, &img, why, whylen);
	if (rc == 0)
		rc = apply_image(vcpu_fd, &img, why, whylen);
	image_free(&img);
	return rc;
}
