/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tap devices (Documentation/networking/tuntap.rst). kiln attaches to taps the operator created
 * (`ip tuntap add NAME mode tap`): TUNSETIFF on a name that does not exist would create a new
 * tap when kiln runs as root, so the name is looked up first and a missing tap is refused. (A tap
 * deleted between the look-up and TUNSETIFF would be created anew, unconfigured and not
 * persistent: it goes away with kiln.)
 *
 * The vnet header is read and written in the host's byte order, little-endian on x86, as virtio
 * 1.x wants (§5.1.6); TUNSETVNETLE would matter only on a big-endian host.
 */
#include "io/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

int tap_set_offloads(int fd, unsigned int offloads)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0 ? -errno : 0;
}

/*
 * The offloads the tap accepts, tried one at a time on top of CSUM, which each of them needs
 * (the kernel refuses TSO without CSUM; ECN only qualifies TSO). A kernel that ignores a bit it
 * still accepts (UFO since Linux 4.14) never hands such frames over: offering it costs nothing.
 */
static unsigned int tap_probe_offloads(int fd)
{
	static const unsigned int each[] = { TUN_F_TSO4, TUN_F_TSO6, TUN_F_UFO };
	unsigned int ok;

	if (tap_set_offloads(fd, TUN_F_CSUM) < 0)
		return 0;
	ok = TUN_F_CSUM;
	for (size_t i = 0; i < ARRAY_SIZE(each); i++)
		if (tap_set_offloads(fd, TUN_F_CSUM | each[i]) == 0)
			ok |= each[i];
	if ((ok & (TUN_F_TSO4 | TUN_F_TSO6)) &&
	    tap_set_offloads(fd, TUN_F_CSUM | (ok & (TUN_F_TSO4 | TUN_F_TSO6)) | TUN_F_TSO_ECN) == 0)
		ok |= TUN_F_TSO_ECN;
	return ok;
}

/* TUNSETIFF failed with err: say why in the operator's terms. */
static int tap_attach_error(const char *name, int e, char *err, size_t errlen)
{
	switch (e) {
	case EBUSY:
		return fail_with(err, errlen, -e, "tap %s: busy (already in use, by another process or NIC)", name);
	case EPERM:
		return fail_with(err, errlen, -e,
				"tap %s: permission denied (needs CAP_NET_ADMIN, or a tap made with "
				"`ip tuntap add %s mode tap user USER`)", name, name);
	case EINVAL:
		return fail_with(err, errlen, -e,
				"tap %s: not a single-queue tap (a tun, a multi_queue tap, or another kind of "
				"interface)", name);
	default:
		return fail_with(err, errlen, -e, "tap %s: %s", name, strerror(e));
	}
}

/* TUNSETIFF on fd for the existing tap `name`. */
static int tap_attach(int fd, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int hdr_size = TAP_VNET_HDR_SIZE;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name)); /* the caller checked it fits with its NUL */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return tap_attach_error(name, errno, err, errlen);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0)
		return fail_with(err, errlen, -errno, "tap %s: cannot set a %d-byte vnet header: %s", name,
				hdr_size, strerror(errno));
	return 0;
}

int tap_open(const char *name, int *fd, unsigned int *offloads, char *err, size_t errlen)
{
	int tfd, rc;

	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ)
		return fail_with(err, errlen, -EINVAL, "tap '%s': the name is empty or longer than %d bytes", name,
				IFNAMSIZ - 1);
	if (if_nametoindex(name) == 0) {
		if (errno == ENODEV)
			return fail_with(err, errlen, -ENODEV,
					"tap %s: no such device (create it with `ip tuntap add %s mode tap`)", name,
					name);
		return fail_with(err, errlen, -errno, "tap %s: %s", name, strerror(errno));
	}
	tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0)
		return fail_with(err, errlen, -errno, "tap %s: /dev/net/tun: %s", name, strerror(errno));
	rc = tap_attach(tfd, name, err, errlen);
	if (rc == 0) {
		*offloads = tap_probe_offloads(tfd);
		rc = tap_set_offloads(tfd, 0); /* none until the guest says what it accepts */
		if (rc < 0)
			fail_with(err, errlen, rc, "tap %s: TUNSETOFFLOAD: %s", name, strerror(-rc));
	}
	if (rc < 0) {
		close(tfd);
		return rc;
	}
	*fd = tfd;
	return 0;
}

int tap_get_mtu(const char *name, unsigned int *mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
		rc = -errno;
	else
		*mtu = (unsigned int)ifr.ifr_mtu;
	close(s);
	return rc;
}
