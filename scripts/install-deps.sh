#!/bin/sh
# Installs the Debian packages kiln's build and tests need, when any is missing.
# usage: install-deps.sh PACKAGE...
# A PACKAGE:ARCH of another architecture (libfdt-dev:arm64, for the cross build) comes through
# Debian multiarch: the architecture is added to dpkg first when it is not yet.
set -eu
missing=""
foreign=""
native=$(dpkg --print-architecture)
# installed PACKAGE[:ARCH]: whether it is, for ARCH, or else for this machine's architecture (or
# "all"). A bare name alone would also match another architecture's copy (libfdt-dev:arm64 is not
# the host's libfdt-dev).
installed() {
	case "$1" in
	*:*) dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed' ;;
	*) dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
		grep -Eq "ok installed ($native|all)\$" ;;
	esac
}
for p in "$@"; do
	installed "$p" && continue
	missing="$missing $p"
	case "$p" in
	*:*)
		a=${p#*:}
		[ "$a" = "$native" ] || dpkg --print-foreign-architectures | grep -qx "$a" ||
			case " $foreign " in *" $a "*) ;; *) foreign="$foreign $a" ;; esac
		;;
	esac
done
[ -z "$missing" ] && exit 0
echo "kiln: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
for a in $foreign; do
	$SUDO dpkg --add-architecture "$a"
done
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
