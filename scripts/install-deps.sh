#!/bin/sh
# Installs the Debian packages kiln's build and tests need, when any is missing.
# usage: install-deps.sh PACKAGE...
# A PACKAGE:ARCH of another architecture (libfdt-dev:arm64, for the cross build) comes through
# Debian multiarch: the architecture is added to dpkg first when it is not yet.
set -eu
missing=""
foreign=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && continue
	missing="$missing $p"
	case "$p" in
	*:*)
		a=${p#*:}
		[ "$a" = "$(dpkg --print-architecture)" ] || dpkg --print-foreign-architectures | grep -qx "$a" ||
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
