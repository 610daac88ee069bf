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

int snap_image_wrap(uint32_t tag, uint32_t instance, const void *payload, size_t len, struct snap_writer *w,
		    struct snap_reader *r)
{
	snap_writer_init(w);
	snap_begin(w, tag, instance);
	snap_put_bytes(w, payload, len);
	snap_end(w);
	return snap_image_read_back(w, r);
}
