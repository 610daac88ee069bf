/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_VM_RELEASE_H
#define KILN_VM_RELEASE_H

/*
 * Closes vm_fd, the VM's last fd in this process, leaving the last reference, and with it KVM's
 * teardown of the VM, to a child process that ends by itself once that is done (vm_release.c). The
 * child is this process's until it is reaped or this process exits: for a process that exits next
 * (kiln_vm_destroy_before_exit). vm_fd is closed here whatever happens. Returns the child's pid,
 * or -errno when it could not be made (then that close was the last, as without this).
 */
int vm_release_detached(int vm_fd);

#endif
