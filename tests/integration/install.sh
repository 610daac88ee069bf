#!/bin/sh
# tests/integration/install.sh MAKE BUILD [DEB_DIR] — libkiln as an embedder gets it:
#   - libkiln.so exports the kiln_* functions of kiln.h, each under the version node KILN_0.1, and
#     nothing else (nm -D), with the soname libkiln.so.0; debian/libkiln0.symbols lists the same;
#   - `make install` into a temporary DESTDIR, with PREFIX /usr/local and /usr (Debian's multiarch
#     libdir), puts each file where it belongs; examples/embed.c and examples/status.c build with
#     nothing but `pkg-config --cflags --libs kiln` pointed into DESTDIR, linked dynamically (run
#     with LD_LIBRARY_PATH into DESTDIR: ldd shows that copy) and statically (`pkg-config --static`,
#     `cc -static`), and each runs the status guest (tiny, status 42);
#   - both man pages render with `man -l` without warnings, and libkiln(3) names every function;
#   - `make uninstall` leaves no file in DESTDIR.
# With DEB_DIR (make check-deb): the same for the packages kiln, libkiln0 and libkiln-dev built
# there, unpacked into a temporary root instead of installed (their .so's exports, their files,
# the examples built against them).
# Run from the top of the tree, with $BUILD/rel/libkiln.so, $BUILD/kiln and $BUILD/tiny built.
# SPDX-License-Identifier: Apache-2.0
make=${1:?usage: install.sh MAKE BUILD [DEB_DIR]} build=${2:?usage: install.sh MAKE BUILD [DEB_DIR]}
debs=${3:-}
. "$(dirname "$0")/tiny_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
guest=$build/tiny/status.elf
# Without a /dev/kvm usable here (mk/kvm.mk) the checks that boot the guest are skipped, loudly:
# check-tiny and check-embed boot the same kiln and libkiln inside the KVM test host.
skipped=0
kvm_here() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
skip() { skipped=$((skipped + 1)); echo "SKIP - $1 (no usable /dev/kvm here)"; }

# The functions kiln.h declares (KILN_API ... kiln_name(), a declaration may span lines).
tr '\n' ' ' <include/kiln/kiln.h | grep -o 'KILN_API [^;(]*(' | grep -o 'kiln_[a-z0-9_]*($' | tr -d '(' |
	sort -u >"$tmp/api"
version=$(sed -n 's/^#define KILN_VERSION "\(.*\)"$/\1/p' include/kiln/kiln.h)

# exports_check SO: its dynamic symbols are the functions of kiln.h at KILN_0.1, the node, no more.
exports_check() {
	nm -D --defined-only "$1" | awk '{ print $3 }' | sort >"$tmp/exports"
	why=
	grep -qx 'KILN_0.1' "$tmp/exports" || why="no version node KILN_0.1"
	stray=$(grep -vx 'KILN_0.1' "$tmp/exports" | grep -v '^kiln_[a-z0-9_]*@@KILN_0\.1$' | tr '\n' ' ')
	[ -z "$stray" ] || why="${why:+$why; }exported besides kiln_*@@KILN_0.1: $stray"
	missing=$(sed 's/$/@@KILN_0.1/' "$tmp/api" | comm -23 - "$tmp/exports" | tr '\n' ' ')
	[ -z "$missing" ] || why="${why:+$why; }not exported: $missing"
	check "$(basename "$1") exports the $(wc -l <"$tmp/api") functions of kiln.h at KILN_0.1 and nothing else" "$why"
	soname=$(readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	check "$(basename "$1")'s soname is libkiln.so.0" "$([ "$soname" = libkiln.so.0 ] || echo "soname '$soname'")"
}

# tree_checks: the built library, its symbols file, the man pages.
tree_checks() {
	exports_check "$build/rel/libkiln.so"
	# Debian's symbols file (dpkg-gensymbols fails the package build on a symbol it lists that is gone).
	listed=$(sed -n 's/^ \([^ ]*\)@\(KILN_[0-9.]*\) .*/\1@@\2/p' debian/libkiln0.symbols | sed 's/^\(KILN_[0-9.]*\)@@.*/\1/' | sort)
	check "debian/libkiln0.symbols lists exactly what libkiln.so exports" \
		"$(echo "$listed" | diff - "$tmp/exports" | grep '^[<>]' | tr '\n' ' ')"
	check "libkiln.so is libkiln.so.$version" \
		"$([ "$(readlink -f "$build/rel/libkiln.so")" = "$(readlink -f "$build/rel/libkiln.so.$version")" ] || echo "libkiln.so -> $(readlink "$build/rel/libkiln.so")")"

	# The man pages.
	for page in docs/kiln.1 docs/libkiln.3; do
		warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		check "man -l $page renders without warnings" "${warnings:+$(echo "$warnings" | head -n 3 | tr '\n' ' ')}"
	done
	# Each function has its own entry: a line `.B kiln_name` or `.BR kiln_name (` in SYNOPSIS/DESCRIPTION.
	undocumented=$(while read -r f; do
		grep -qE "^\.(B|BR|BI) \"?$f\b" docs/libkiln.3 || printf '%s ' "$f"
	done <"$tmp/api")
	check "libkiln(3) describes every function of kiln.h" "${undocumented:+missing: $undocumented}"
}

# run_example NAME BINARY [ENV...]: runs the example on the status guest; it must say status 42.
run_example() {
	name=$1 bin=$2
	shift 2
	kvm_here || { skip "$name runs the status guest"; return; }
	out=$(env "$@" "$bin" "$guest" </dev/null 2>"$tmp/stderr")
	rc=$?
	case $(basename "$bin") in
	embed*) want='embed: the guest reported a status (status 42)' wantrc=0 ;;
	status*) want='status: the guest reported 42' wantrc=42 ;;
	esac
	if [ "$rc" = "$wantrc" ] && echo "$out" | grep -qxF "$want"; then
		ok "$name runs the status guest: \"$want\", exit $rc"
	else
		not_ok "$name runs the status guest" "exit $rc, output: $(echo "$out" | tail -n 2 | tr '\n' ' ')$(grep -v PVM "$tmp/stderr" | head -n 2 | tr '\n' ' ')"
	fi
}

# use_checks LABEL DEST PREFIX LIBDIR: what is installed below DEST (as PREFIX, libraries in LIBDIR)
# works: the links, kiln, pkg-config, the examples built against it and run.
use_checks() {
	label=$1 dest=$2 prefix=$3 libdir=$4
	links="$(readlink "$dest$libdir/libkiln.so") $(readlink "$dest$libdir/libkiln.so.0")"
	check "$label: libkiln.so -> libkiln.so.0 -> libkiln.so.$version" \
		"$([ "$links" = "libkiln.so.0 libkiln.so.$version" ] || echo "links: $links")"
	if kvm_here; then
		"$dest$prefix/bin/kiln" run --kernel "$guest" </dev/null >/dev/null 2>&1
		rc=$?
		check "$label: its kiln runs the status guest (exit 42)" "$([ $rc = 42 ] || echo "exit $rc")"
	else
		skip "$label: its kiln runs the status guest"
	fi

	# pkg-config reads the copy in dest and prefixes its paths with it; /usr's paths too
	# (which it would otherwise drop as the system's).
	pc() {
		PKG_CONFIG_PATH="$dest$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
			PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 pkg-config "$@"
	}
	got=$(pc --modversion kiln 2>&1)
	check "$label: pkg-config finds kiln $version" "$([ "$got" = "$version" ] || echo "got '$got'")"
	for ex in embed status; do
		bin=$tmp/$ex$(echo "$label" | tr -c "a-z0-9\n" _)
		if ! ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -O2 -o "$bin" "examples/$ex.c" \
				$(pc --cflags --libs kiln) 2>"$tmp/cc.out"; then
			not_ok "$label: examples/$ex.c builds with pkg-config --cflags --libs kiln" \
				"$(head -n 3 "$tmp/cc.out" | tr '\n' ' ')"
		else
			loaded=$(LD_LIBRARY_PATH="$dest$libdir" ldd "$bin" | awk '$1 == "libkiln.so.0" { print $3 }')
			check "$label: examples/$ex.c, dynamically linked, loads its libkiln.so.0" \
				"$([ "$loaded" = "$dest$libdir/libkiln.so.0" ] || echo "ldd: '$loaded'")"
			run_example "$label: $ex (dynamic)" "$bin" LD_LIBRARY_PATH="$dest$libdir"
		fi
		if ! ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -O2 -static -o "$bin-static" "examples/$ex.c" \
				$(pc --static --cflags --libs kiln) 2>"$tmp/cc.out"; then
			not_ok "$label: examples/$ex.c builds -static with pkg-config --static" \
				"$(head -n 3 "$tmp/cc.out" | tr '\n' ' ')"
		else
			check "$label: examples/$ex.c, statically linked, needs no shared library" \
				"$(readelf -d "$bin-static" 2>/dev/null | grep NEEDED | tr '\n' ' ')"
			run_example "$label: $ex (static)" "$bin-static"
		fi
	done
	# Every function, not only the examples' (a static link takes only the objects a program
	# uses): the static library and Libs.private cover them all.
	{
		echo '#include <kiln/kiln.h>'
		echo 'int main(void) { void (*const all[])(void) = {'
		sed 's/.*/(void (*)(void))&,/' "$tmp/api"
		echo '}; return all[0] == 0; }'
	} >"$tmp/all.c"
	${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -static -o "$tmp/all" "$tmp/all.c" \
		$(pc --static --cflags --libs kiln) 2>"$tmp/cc.out"
	check "$label: a program that takes every function of kiln.h links -static with pkg-config --static" \
		"$(head -n 3 "$tmp/cc.out" | tr '\n' ' ')"
}

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || ${CC:-cc} -print-multiarch)
# deb_checks: the packages in $debs, unpacked into a temporary root.
deb_checks() {
	dest=$tmp/debroot libdir=/usr/lib/$multiarch
	for p in kiln libkiln0 libkiln-dev; do
		dpkg-deb -x "$debs/${p}_${version}_$(dpkg --print-architecture).deb" "$dest" ||
			not_ok "unpack $p" "no $debs/${p}_${version}_*.deb"
	done
	exports_check "$dest$libdir/libkiln.so.0"
	(cd "$dest" && find . ! -type d | sed 's|^\.||' | grep -v '^/usr/share/doc/' | sort) >"$tmp/installed"
	printf '%s\n' /usr/bin/kiln "$libdir/libkiln.so.$version" "$libdir/libkiln.so.0" \
		"$libdir/libkiln.so" "$libdir/libkiln.a" /usr/include/kiln/kiln.h "$libdir/pkgconfig/kiln.pc" \
		/usr/share/man/man1/kiln.1.gz /usr/share/man/man3/libkiln.3.gz /usr/share/lintian/overrides/kiln |
		sort >"$tmp/expected"
	check "the packages kiln, libkiln0 and libkiln-dev hold their 10 files (and /usr/share/doc)" \
		"$(diff "$tmp/expected" "$tmp/installed" | grep '^[<>]' | tr '\n' ' ')"
	use_checks "packages" "$dest" /usr "$libdir"
}

# install_checks: make install into a temporary DESTDIR for each layout, use it, make uninstall.
install_checks() {
	for prefix in /usr/local /usr; do
		dest=$tmp/dest$(echo "$prefix" | tr / _)
		libdir=$prefix/lib
		[ "$prefix" = /usr ] && libdir=$prefix/lib/$multiarch
		if ! $make -s --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" >"$tmp/make.out" 2>&1; then
			not_ok "make install PREFIX=$prefix" "$(tail -n 3 "$tmp/make.out" | tr '\n' ' ')"
			continue
		fi
		# Everything install writes, and nothing else.
		(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$tmp/installed"
		printf '%s\n' "$prefix/bin/kiln" "$libdir/libkiln.so.$version" "$libdir/libkiln.so.0" \
			"$libdir/libkiln.so" "$libdir/libkiln.a" "$prefix/include/kiln/kiln.h" \
			"$libdir/pkgconfig/kiln.pc" "$prefix/share/man/man1/kiln.1" \
			"$prefix/share/man/man3/libkiln.3" | sort >"$tmp/expected"
		check "make install PREFIX=$prefix puts its 9 files in place (libraries in $libdir)" \
			"$(diff "$tmp/expected" "$tmp/installed" | grep '^[<>]' | tr '\n' ' ')"
		use_checks "PREFIX=$prefix" "$dest" "$prefix" "$libdir"

		if ! $make -s --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" >"$tmp/make.out" 2>&1; then
			not_ok "make uninstall PREFIX=$prefix" "$(tail -n 3 "$tmp/make.out" | tr '\n' ' ')"
			continue
		fi
		left=$(cd "$dest" && find . ! -type d | tr '\n' ' ')
		check "PREFIX=$prefix: make uninstall leaves no file behind" "${left:+left: $left}"
	done
}

if [ -n "$debs" ]; then
	deb_checks
else
	tree_checks
	install_checks
fi
if [ $skipped = 0 ]; then echo "$passed passed, $failed failed"
else echo "$passed passed, $failed failed, $skipped SKIPPED (no usable /dev/kvm here)"; fi
[ "$failed" = 0 ]
