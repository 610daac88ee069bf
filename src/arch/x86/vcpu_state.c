/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/vcpu_state.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/kvm_x86.h"
#include "kvm/kvm.h"

/* An event's vector, or "none" when KVM holds none of that kind. */
static const char *event_vector(bool present, unsigned int nr, char *buf, size_t len)
{
	if (!present)
		return "none";
	snprintf(buf, len, "%u", nr);
	return buf;
}

/* The architectural reset state (SDM vol. 3A §10.1.4; APM vol. 2 §14.1.3): CS.selector f000, IP fff0. */
static bool at_reset_vector(const struct kvm_regs *r, const struct kvm_sregs *s)
{
	return s->cs.selector == 0xf000 && r->rip == 0xfff0;
}

void x86_format_vcpu_state(const struct kvm_regs *r, const struct kvm_sregs *s, const struct kvm_vcpu_events *ev,
			   char *buf, size_t len)
{
	char exc[8], irq[8];

	/* KVM on AMD reinitializes a vCPU whose guest shut down (svm.c, shutdown_interception): its
	 * state at the fault is gone, and printing the reset values would mislead. */
	if (at_reset_vector(r, s)) {
		snprintf(buf, len, "registers unknown: KVM reset the vCPU at the shutdown (as it does on AMD)");
		return;
	}
	snprintf(buf, len,
		 "rip=%#llx rsp=%#llx rbp=%#llx rflags=%#llx rax=%#llx rdi=%#llx rsi=%#llx "
		 "cs=%#x ss=%#x cr0=%#llx cr2=%#llx cr3=%#llx cr4=%#llx efer=%#llx "
		 "gdt=%#llx+%#x idt=%#llx+%#x tr=%#llx exception=%s interrupt=%s nmi=%s",
		 r->rip, r->rsp, r->rbp, r->rflags, r->rax, r->rdi, r->rsi, s->cs.selector, s->ss.selector,
		 s->cr0, s->cr2, s->cr3, s->cr4, s->efer, s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit,
		 s->tr.base,
		 event_vector(ev->exception.injected || ev->exception.pending, ev->exception.nr, exc, sizeof(exc)),
		 event_vector(ev->interrupt.injected, ev->interrupt.nr, irq, sizeof(irq)),
		 ev->nmi.injected || ev->nmi.pending ? "pending" : "none");
}

void x86_describe_vcpu(int vcpu_fd, char *buf, size_t len)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs s;
	struct kvm_regs r;
	int rc;

	if ((rc = kvm_get_regs(vcpu_fd, &r)) < 0 || (rc = kvm_get_sregs(vcpu_fd, &s)) < 0 ||
	    (rc = kvm_get_vcpu_events(vcpu_fd, &ev)) < 0) {
		snprintf(buf, len, "its registers cannot be read: %s", strerror(-rc));
		return;
	}
	x86_format_vcpu_state(&r, &s, &ev, buf, len);
}
