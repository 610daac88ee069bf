/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Section GIC3/0: u32 count, then per register u32 group, u64 attr, u64 value, in the order a
 * restore sets them (Documentation/virt/kvm/devices/arm-vgic-v3.rst):
 *   the distributor: GICD_CTLR, then per SPI group, priority, configuration (edge or level), route
 *     (IROUTER, two 32-bit halves), enable, pending (the latch) and active bits;
 *   each vCPU's redistributor (its SGI_base frame): the same for SGIs and PPIs;
 *   the SPIs' input levels (LEVEL_INFO; after their configuration, as a level means nothing to an
 *     edge-triggered line);
 *   each vCPU's CPU interface: ICC_SRE_EL1 and ICC_CTLR_EL1 first, then the enables, the priority
 *     mask, the binary points and the active priorities (as many as the host's priority bits have).
 * The list is a function of the machine (vCPUs, their MPIDRs, ARM64_GIC_NR_IRQS, the host's
 * priority bits): a restore builds its own and takes from the file only the values, refusing a
 * file whose list is not the same. A restore starts from KVM's reset state, so the set-enable,
 * set-pending and set-active registers alone bring the bits back. There are no LPIs: kiln creates
 * no ITS (machine.c).
 */
#include "arch/arm64/snapshot.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/kvm_arm64.h"
#include "arch/arm64/layout.h"
#include "log.h"

struct gic_reg {
	uint32_t group;
	uint64_t attr;
};

/* Distributor register offsets (GICv3 architecture specification, 12.9). */
#define GICD_CTLR 0x0000
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ISPENDR 0x0200
#define GICD_ISACTIVER 0x0300
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IROUTER 0x6000
/* The SGI_base frame follows the redistributor's RD_base frame (12.10), at the same offsets. */
#define GICR_SGI_BASE 0x10000

/* A CPU interface register's attr: its A64 system register encoding (arm-vgic-v3.rst). */
#define ICC_SYSREG(op0, op1, crn, crm, op2) \
	((uint64_t)((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2)))
#define ICC_PMR_EL1 ICC_SYSREG(3, 0, 4, 6, 0)
#define ICC_BPR0_EL1 ICC_SYSREG(3, 0, 12, 8, 3)
#define ICC_AP0R_EL1(n) ICC_SYSREG(3, 0, 12, 8, 4 + (n))
#define ICC_AP1R_EL1(n) ICC_SYSREG(3, 0, 12, 9, (n))
#define ICC_BPR1_EL1 ICC_SYSREG(3, 0, 12, 12, 3)
#define ICC_CTLR_EL1 ICC_SYSREG(3, 0, 12, 12, 4)
#define ICC_SRE_EL1 ICC_SYSREG(3, 0, 12, 12, 5)
#define ICC_IGRPEN0_EL1 ICC_SYSREG(3, 0, 12, 12, 6)
#define ICC_IGRPEN1_EL1 ICC_SYSREG(3, 0, 12, 12, 7)
#define ICC_CTLR_PRI_BITS_SHIFT 8 /* PRIbits: priority bits - 1 */
#define ICC_CTLR_PRI_BITS_MASK 0x7u

/* MPIDR_EL1 (Arm ARM D19.2): the vCPU's affinity, as KVM gave it. */
#define ARM64_REG_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)

/* A list being built: out may be NULL to count. */
struct gic_list {
	struct gic_reg *out;
	size_t n;
};

static void add(struct gic_list *l, uint32_t group, uint64_t attr)
{
	if (l->out)
		l->out[l->n] = (struct gic_reg){ group, attr };
	l->n++;
}

/* A register of one bit (or bits_per_irq bits) per interrupt, for interrupts [first, last). */
static void add_per_irq(struct gic_list *l, uint32_t group, uint64_t mpidr, uint32_t base, unsigned int first,
			unsigned int last, unsigned int bits_per_irq)
{
	unsigned int per_reg = 32 / bits_per_irq;

	for (unsigned int irq = first; irq < last; irq += per_reg)
		add(l, group, mpidr | (base + irq / per_reg * 4));
}

/* Group, priority, configuration, (route,) enable, pending, active: distributor or one redistributor. */
static void add_irq_state(struct gic_list *l, uint32_t group, uint64_t mpidr, uint32_t frame, unsigned int first,
			  unsigned int last)
{
	add_per_irq(l, group, mpidr, frame + GICD_IGROUPR, first, last, 1);
	add_per_irq(l, group, mpidr, frame + GICD_IPRIORITYR, first, last, 8);
	add_per_irq(l, group, mpidr, frame + GICD_ICFGR, first, last, 2);
	for (unsigned int irq = first; group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS && irq < last; irq++) {
		add(l, group, GICD_IROUTER + irq * 8);
		add(l, group, GICD_IROUTER + irq * 8 + 4);
	}
	add_per_irq(l, group, mpidr, frame + GICD_ISENABLER, first, last, 1);
	add_per_irq(l, group, mpidr, frame + GICD_ISPENDR, first, last, 1);
	add_per_irq(l, group, mpidr, frame + GICD_ISACTIVER, first, last, 1);
}

static void add_cpu_interface(struct gic_list *l, uint64_t mpidr, unsigned int naprs)
{
	static const uint64_t regs[] = { ICC_SRE_EL1, ICC_CTLR_EL1, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1,
					 ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1 };

	for (size_t i = 0; i < ARRAY_SIZE(regs); i++)
		add(l, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, mpidr | regs[i]);
	for (unsigned int n = 0; n < naprs; n++) {
		add(l, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, mpidr | ICC_AP0R_EL1(n));
		add(l, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, mpidr | ICC_AP1R_EL1(n));
	}
}

/* The machine's list (mpidrs: each vCPU's, as an attr's mpidr field); its length. */
static size_t gic_list(struct gic_reg *out, const uint64_t *mpidrs, unsigned int nvcpus, unsigned int naprs)
{
	struct gic_list l = { .out = out };

	add(&l, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_CTLR);
	add_irq_state(&l, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0, 0, ARM64_SPI_INTID_BASE, ARM64_GIC_NR_IRQS);
	for (unsigned int i = 0; i < nvcpus; i++)
		add_irq_state(&l, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, mpidrs[i], GICR_SGI_BASE, 0, ARM64_SPI_INTID_BASE);
	for (unsigned int irq = ARM64_SPI_INTID_BASE; irq < ARM64_GIC_NR_IRQS; irq += 32)
		add(&l, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
		    mpidrs[0] | (uint64_t)VGIC_LEVEL_INFO_LINE_LEVEL << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT | irq);
	for (unsigned int i = 0; i < nvcpus; i++)
		add_cpu_interface(&l, mpidrs[i], naprs);
	return l.n;
}

/* Each vCPU's affinity in the attrs' mpidr field (Aff3..Aff0 in bits 63..32, arm-vgic-v3.rst). */
static int vcpu_mpidrs(const int *vcpu_fds, unsigned int nvcpus, uint64_t *mpidrs)
{
	for (unsigned int i = 0; i < nvcpus; i++) {
		uint64_t m;
		int rc = kvm_get_one_reg(vcpu_fds[i], ARM64_REG_MPIDR_EL1, &m);

		if (rc < 0)
			return rc;
		uint64_t aff = (m & 0xffffffull) | ((m >> 32) & 0xff) << 24;
		mpidrs[i] = aff << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
	}
	return 0;
}

/* ICC_AP0R<n>/AP1R<n> per group: 1 for 5 priority bits, 2 for 6, 4 for 7 (arm-vgic-v3.rst). */
static int host_aprs(int gic_fd, uint64_t mpidr, unsigned int *naprs)
{
	uint64_t ctlr;
	int rc = kvm_get_device_attr(gic_fd, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, mpidr | ICC_CTLR_EL1, &ctlr);
	unsigned int bits = ((ctlr >> ICC_CTLR_PRI_BITS_SHIFT) & ICC_CTLR_PRI_BITS_MASK) + 1;

	if (rc < 0)
		return rc;
	*naprs = bits >= 7 ? 4 : bits == 6 ? 2 : 1;
	return 0;
}

/* This machine's list, malloc'd into *out: its length, or -errno. */
static long machine_list(int gic_fd, const int *vcpu_fds, unsigned int nvcpus, struct gic_reg **out)
{
	uint64_t *mpidrs = calloc(nvcpus ? nvcpus : 1, sizeof(*mpidrs));
	unsigned int naprs = 0;
	int rc = mpidrs ? vcpu_mpidrs(vcpu_fds, nvcpus, mpidrs) : -ENOMEM;
	size_t n = 0;

	*out = NULL;
	if (rc == 0 && nvcpus == 0)
		rc = -EINVAL;
	if (rc == 0)
		rc = host_aprs(gic_fd, mpidrs[0], &naprs);
	if (rc == 0) {
		n = gic_list(NULL, mpidrs, nvcpus, naprs);
		if ((*out = calloc(n, sizeof(**out))) == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0)
		gic_list(*out, mpidrs, nvcpus, naprs);
	free(mpidrs);
	return rc < 0 ? rc : (long)n;
}

/* The CPU interface's registers are 64-bit; the others 32-bit (arm-vgic-v3.rst). */
static bool reg_is_64bit(uint32_t group)
{
	return group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
}

static int get_reg(int gic_fd, const struct gic_reg *reg, uint64_t *value)
{
	uint32_t v32 = 0;
	int rc;

	if (reg_is_64bit(reg->group))
		return kvm_get_device_attr(gic_fd, reg->group, reg->attr, value);
	rc = kvm_get_device_attr(gic_fd, reg->group, reg->attr, &v32);
	*value = v32;
	return rc;
}

static int set_reg(int gic_fd, const struct gic_reg *reg, uint64_t value)
{
	uint32_t v32 = (uint32_t)value;

	return kvm_set_device_attr(gic_fd, reg->group, reg->attr, reg_is_64bit(reg->group) ? (void *)&value : &v32);
}

int arm64_gic_save(int gic_fd, const int *vcpu_fds, unsigned int nvcpus, struct snap_writer *w)
{
	struct gic_reg *regs;
	long n = machine_list(gic_fd, vcpu_fds, nvcpus, &regs);
	int rc = 0;

	if (n < 0) {
		log_error("snapshot", "the GICv3's register list: %s", strerror((int)-n));
		return (int)n;
	}
	snap_begin(w, ARM64_SNAP_TAG_GIC, 0);
	snap_put_u32(w, (uint32_t)n);
	for (long i = 0; i < n && rc == 0; i++) {
		uint64_t value = 0;

		if ((rc = get_reg(gic_fd, &regs[i], &value)) < 0)
			log_error("snapshot", "the GICv3: KVM_GET_DEVICE_ATTR group %u attr %#llx: %s", regs[i].group,
				  (unsigned long long)regs[i].attr, strerror(-rc));
		snap_put_u32(w, regs[i].group);
		snap_put_u64(w, regs[i].attr);
		snap_put_u64(w, value);
	}
	snap_end(w);
	free(regs);
	return rc;
}

/* The file's list, checked against the machine's, into values. */
static int get_values(struct snap_cursor *c, const struct gic_reg *regs, size_t n, uint64_t *values, char *why,
		      size_t whylen)
{
	uint32_t count = snap_get_u32(c);

	if (c->err == 0 && count != n)
		return fail_with(why, whylen, -EINVAL, "it has %u GICv3 registers, this machine %zu", count, n);
	for (size_t i = 0; i < n && c->err == 0; i++) {
		uint32_t group = snap_get_u32(c);
		uint64_t attr = snap_get_u64(c);

		values[i] = snap_get_u64(c);
		if (c->err)
			break;
		if (group != regs[i].group || attr != regs[i].attr)
			return fail_with(why, whylen, -EINVAL, "GICv3 register %zu is group %u attr %#llx, this "
					 "machine's is group %u attr %#llx", i, group, (unsigned long long)attr,
					 regs[i].group, (unsigned long long)regs[i].attr);
		if (!reg_is_64bit(group) && values[i] > UINT32_MAX)
			return fail_with(why, whylen, -EINVAL, "GICv3 register group %u attr %#llx: %#llx is over "
					 "32 bits", group, (unsigned long long)attr, (unsigned long long)values[i]);
	}
	return snap_cursor_finish(c) < 0 ? fail_with(why, whylen, -EBADMSG, "its GICv3 section is malformed") : 0;
}

int arm64_gic_load(int gic_fd, const int *vcpu_fds, unsigned int nvcpus, const struct snap_reader *r,
		   char *why, size_t whylen)
{
	struct snap_cursor c;
	struct gic_reg *regs;
	uint64_t *values = NULL;
	long n;
	int rc = snap_open_section(r, ARM64_SNAP_TAG_GIC, 0, &c);

	if (rc < 0)
		return fail_with(why, whylen, -EINVAL, "it has no GICv3 state");
	if ((n = machine_list(gic_fd, vcpu_fds, nvcpus, &regs)) < 0)
		return fail_with(why, whylen, (int)n, "the GICv3's register list: %s", strerror((int)-n));
	if ((values = calloc((size_t)n, sizeof(*values))) == NULL)
		rc = fail_with(why, whylen, -ENOMEM, "out of memory");
	if (rc == 0)
		rc = get_values(&c, regs, (size_t)n, values, why, whylen);
	for (long i = 0; i < n && rc == 0; i++)
		if ((rc = set_reg(gic_fd, &regs[i], values[i])) < 0)
			fail_with(why, whylen, rc, "the GICv3: KVM_SET_DEVICE_ATTR group %u attr %#llx: %s",
				  regs[i].group, (unsigned long long)regs[i].attr, strerror(-rc));
	free(values);
	free(regs);
	return rc;
}
