/* SPDX-License-Identifier: Apache-2.0 */
#include "irq/irq.h"

#include "log.h"

void irq_line_set(const struct irq_line *line, int level)
{
	int rc = line->chip->ops->set_level(line->chip->opaque, line->gsi, level);

	if (rc < 0)
		log_guest(LOG_WARN, "irq", "cannot set GSI %u to %d: error %d", line->gsi, level, rc);
}

void irq_line_pulse(const struct irq_line *line)
{
	irq_line_set(line, 1);
	irq_line_set(line, 0);
}
