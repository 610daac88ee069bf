/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interrupt lines as devices see them: a GSI number and a chip that can raise it. The VM provides the
 * chip (KVM_IRQ_LINE on the in-kernel irqchip); unit tests provide a fake that records the calls.
 */
#ifndef KILN_IRQ_IRQ_H
#define KILN_IRQ_IRQ_H

#include <stdint.h>

struct irq_chip_ops {
	int (*set_level)(void *opaque, uint32_t gsi, int level);
};

struct irq_chip {
	const struct irq_chip_ops *ops;
	void *opaque;
};

struct irq_line {
	struct irq_chip *chip;
	uint32_t gsi;
};

/* Drive a level-triggered line. */
void irq_line_set(const struct irq_line *line, int level);

/* An edge: raise then lower. */
void irq_line_pulse(const struct irq_line *line);

#endif
