/* SPDX-License-Identifier: Apache-2.0 */
/* Links in place of src/kvm/kvm.c in unit tests (a link seam). Filled in as kvm.h grows. */
#include "kvm/kvm.h"
