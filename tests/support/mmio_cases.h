/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile register sequences every device goes through behind the real virtio-mmio transport
 * (cmocka tests, one set per device): a test file describes its device (how to create it, one good
 * request, the host input it takes, how it comes to hold chains) and lists MMIO_CASES in its table.
 *
 * What each case checks follows the transport's rules (virtio 1.2 §2.1.2, §3.1.1, §4.2.3): a write
 * the driver may not make is refused with DEVICE_NEEDS_RESET and a configuration interrupt, or
 * ignored; kiln does not crash (ASan in the san build); after a reset and a proper negotiation the
 * device serves a good request again.
 */
#ifndef KILN_TESTS_SUPPORT_MMIO_CASES_H
#define KILN_TESTS_SUPPORT_MMIO_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap_file.h"
#include "support/mmio_driver.h"

struct mmio_case;

/* A device under test. Every callback asserts with cmocka; only create, destroy and the requests are required. */
struct mmio_case_device {
	uint64_t features;       /* the driver accepts these (VERSION_1 is added) */
	unsigned int num_queues; /* the driver sets up queues [0, num_queues) */
	uint16_t queue_size;
	size_t ram_size;         /* see mmio_driver_init */
	/* Creates the device and its host side: sets c->dev (and c->priv). 0, or -1. */
	int (*create)(struct mmio_case *c);
	/* Destroys them; the I/O thread does not run. */
	void (*destroy)(struct mmio_case *c);
	/* The driver has just started the device: posts what the device needs (receive buffers...). */
	void (*started)(struct mmio_case *c);
	/* A good request, end to end, checked: data reached the host or the guest as it should. */
	void (*good_request)(struct mmio_case *c);
	/* Publishes a good request without kicking; returns the queue to kick. */
	unsigned int (*post_request)(struct mmio_case *c);
	/* Optional: the device takes chains it keeps across I/O events (net, vsock receive). */
	void (*hold_chains)(struct mmio_case *c);
	/* Optional: the host side sends the guest something (a frame, input, socket data). */
	void (*host_input)(struct mmio_case *c);
	/* Optional, for snapshots: gives to (a restore of from) the test driver's own view of the rings. */
	void (*carry)(const struct mmio_case *from, struct mmio_case *to);
};

struct mmio_case {
	struct mmio_driver drv;
	const struct mmio_case_device *desc;
	struct virtio_dev *dev;
	void *priv; /* the device test's own state */
};

/* cmocka setup and teardown: *state becomes a struct mmio_case for desc's device. */
int mmio_case_setup(void **state, const struct mmio_case_device *desc);
int mmio_case_teardown(void **state);

/* Starts the device as a driver does (negotiate, queues, DRIVER_OK) and asserts it runs. */
void mmio_case_start(struct mmio_case *c);
/* Asserts the device refused what the driver did: NEEDS_RESET, no DRIVER_OK, a config interrupt. */
void mmio_case_expect_refused(struct mmio_case *c);
/* Resets, starts the device again and asserts a good request succeeds. */
void mmio_case_recover(struct mmio_case *c);

/*
 * Snapshots through the transport (virtio/mmio_snapshot.c). snapshot: c's device saved as section
 * VIRT/0 of w, read back into img (free both after). restore: img loaded into a new case of c's
 * device (its own host side, as a restore's process has), whose driver knows the rings as c's did
 * (desc->carry), then the kick every queue gets after a restore, and its I/O run: 0 and the new
 * case in *out (mmio_case_free it), or the load's -errno with its reason in why (the new case is
 * torn down as a failed restore is). restore_damaged: the same from a copy of img's VIRT/0 cut by
 * -delta bytes or grown by delta zero bytes, the byte `at` bytes before its end XORed with x (at 0:
 * none); returns what the restore did, a case it made torn down.
 */
void mmio_case_snapshot(struct mmio_case *c, struct snap_writer *w, struct snap_reader *img);
int mmio_case_restore(struct mmio_case *c, const struct snap_reader *img, struct mmio_case **out, char *why,
		      size_t whylen);
int mmio_case_restore_damaged(struct mmio_case *c, const struct snap_reader *img, int delta, unsigned int at,
			      uint8_t x, char *why, size_t whylen);
void mmio_case_free(struct mmio_case *c);

/* A snapshot a test restores: the state file of mmio_case_snapshot, written and read back. */
struct mmio_case_snap {
	struct snap_writer w;
	struct snap_reader img;
};

/* take: mmio_case_snapshot of c into s. restore: s restored into a new case of c's device, the
 * restore asserted to succeed (its reason shown if not); mmio_case_free the case. free: s's own. */
void mmio_case_snap_take(struct mmio_case *c, struct mmio_case_snap *s);
struct mmio_case *mmio_case_snap_restore(struct mmio_case *c, const struct mmio_case_snap *s);
void mmio_case_snap_free(struct mmio_case_snap *s);

/* A damaged copy of a good device section (see mmio_case_restore_damaged) and what its restore must say. */
struct mmio_case_damage {
	const char *what;
	int delta;       /* bytes added to (or, negative, cut from) the section */
	unsigned int at; /* the byte to change, counted back from the section's end (0: none) */
	uint8_t x;       /* ... XORed into it */
	int rc;
	const char *reason; /* found in the one-line reason */
};

/* Snapshots c and restores each of the n damaged copies: each must fail with its rc and reason, on one line. */
void mmio_case_expect_refusals(struct mmio_case *c, const struct mmio_case_damage *cases, size_t n);

/* The cases; each is a cmocka test taking the struct mmio_case from *state. */
void mmio_case_good_requests(void **state);
void mmio_case_status_bits_removed(void **state);
void mmio_case_kicks_ignored_while_needs_reset(void **state);
void mmio_case_driver_ok_twice(void **state);
void mmio_case_driver_ok_again_after_removal(void **state);
void mmio_case_reset_after_bits_removed_with_held_chains(void **state);
void mmio_case_reset_while_holding_chains(void **state);
void mmio_case_queue_registers_after_driver_ok(void **state);
void mmio_case_features_after_features_ok(void **state);
void mmio_case_unoffered_features_refused(void **state);
void mmio_case_rings_overlapping(void **state);
void mmio_case_rings_in_the_mmio_hole(void **state);
void mmio_case_rings_misaligned(void **state);
void mmio_case_queue_size_not_power_of_two(void **state);

#define MMIO_CASE(name, setup) cmocka_unit_test_setup_teardown(name, setup, mmio_case_teardown)
/* Every case above, each with setup (which calls mmio_case_setup for the file's device). */
#define MMIO_CASES(setup)                                                   \
	MMIO_CASE(mmio_case_good_requests, setup),                          \
	MMIO_CASE(mmio_case_status_bits_removed, setup),                    \
	MMIO_CASE(mmio_case_kicks_ignored_while_needs_reset, setup),        \
	MMIO_CASE(mmio_case_driver_ok_twice, setup),                        \
	MMIO_CASE(mmio_case_driver_ok_again_after_removal, setup),          \
	MMIO_CASE(mmio_case_reset_after_bits_removed_with_held_chains, setup), \
	MMIO_CASE(mmio_case_reset_while_holding_chains, setup),             \
	MMIO_CASE(mmio_case_queue_registers_after_driver_ok, setup),        \
	MMIO_CASE(mmio_case_features_after_features_ok, setup),             \
	MMIO_CASE(mmio_case_unoffered_features_refused, setup),             \
	MMIO_CASE(mmio_case_rings_overlapping, setup),                      \
	MMIO_CASE(mmio_case_rings_in_the_mmio_hole, setup),                 \
	MMIO_CASE(mmio_case_rings_misaligned, setup),                       \
	MMIO_CASE(mmio_case_queue_size_not_power_of_two, setup)

#endif
