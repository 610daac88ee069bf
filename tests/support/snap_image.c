/* SPDX-License-Identifier: Apache-2.0 */
#include "support/snap_image.h"

int snap_image_read_back(struct snap_writer *w, struct snap_reader *r)
{
	const uint8_t *image;
	size_t len;
	char why[128];
	int rc = snap_writer_image(w, &image, &len);

	return rc < 0 ? rc : snap_reader_parse(r, image, len, why, sizeof(why));
}
