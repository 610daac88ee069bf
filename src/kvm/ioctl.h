/* SPDX-License-Identifier: Apache-2.0 */
/* What the files that call ioctl() on KVM's fds share: kvm/kvm.c and each arch's kvm_ARCH.c. */
#ifndef KILN_KVM_IOCTL_H
#define KILN_KVM_IOCTL_H

#include <sys/ioctl.h>

/* ioctl(fd, req, arg), or -errno. */
int kvm_ioctl_or_errno(int fd, unsigned long req, unsigned long arg);

/*
 * Every ioctl goes through one of these two macros. The first checks, at compile time, that the
 * argument's type has the size the request number encodes; the second is for requests that take
 * an integer (or nothing) instead of a pointer.
 */
#define KVM_IOCTL_PTR(fd, req, argp)                                                   \
	({                                                                             \
		_Static_assert(_IOC_SIZE(req) == sizeof(*(argp)), "ioctl size: " #req); \
		kvm_ioctl_or_errno(fd, req, (unsigned long)(argp));                    \
	})
#define KVM_IOCTL_VAL(fd, req, val) kvm_ioctl_or_errno(fd, req, (unsigned long)(val))

#endif
