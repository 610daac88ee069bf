/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86/layout.h"

unsigned int x86_ram_ranges(uint64_t ram_bytes, struct x86_ram_range out[2])
{
	if (ram_bytes <= X86_MMIO_HOLE_START) {
		out[0] = (struct x86_ram_range){ 0, ram_bytes };
		return 1;
	}
	out[0] = (struct x86_ram_range){ 0, X86_MMIO_HOLE_START };
	out[1] = (struct x86_ram_range){ X86_RAM_ABOVE_4G_START, ram_bytes - X86_MMIO_HOLE_START };
	return 2;
}
