#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# bench/guest/debian-marker.sh: /usr/local/sbin/kiln-bench-marker in the Debian row's image, run by
# kiln-bench.service (debian-marker.service) once multi-user.target is reached. On the console:
#   KILN-BENCH-MULTI-USER          the marker bench/debian.sh times
#   KILN-BENCH-FAILED <unit>       one line per unit failed by then (`systemctl --failed`)
#   KILN-BENCH-UNITS <n> active    how many units are active
# then powers the machine off (ACPI S5 under both monitors; the monitor exits).
# The leading newline: a getty on the same console may have left its prompt without one.
{
	printf '\nKILN-BENCH-MULTI-USER\n'
	systemctl --failed --plain --no-legend --no-pager | while read -r unit _; do
		echo "KILN-BENCH-FAILED $unit"
	done
	echo "KILN-BENCH-UNITS $(systemctl list-units --state=active --plain --no-legend --no-pager | wc -l) active"
} > /dev/console 2>&1
exec systemctl --no-block poweroff
