# SPDX-License-Identifier: Apache-2.0
#
# bench/peers.sh — sourced by bench/bench.sh: kiln against kvmtool, per VM, with the tiny guests, in the
# same run as the QEMU figures and the same way (stopwatch, interleaved A B A B). Its own table and
# build/bench/results-kvmtool.json; bench/README.md says what each row measures.
#
# kvmtool is a benchmark peer only (GPL-2.0, never linked into kiln): its source is the `git archive`
# in $BENCH_PEERS (default: ../shared/peers beside the tree) with a one-line patch that lets it start
# on a PVM host (LKVM_SKIP_VMX_CHECK). peer_kvmtool_build makes `lkvm` once, cached outside the tree
# in ${KILN_CACHE:-$HOME/.cache/kiln}/peers/ under the hash of the source and the patch. When the
# source is missing (a user's checkout) the table says so and the run goes on.
#
# Uses bench.sh's OUT, KILN, SW, TINY, MEM_MIB, N_TINY, RATE_CHUNKS, RATE_CHUNK_S, say, problem, field.

PEERS_SRC=${BENCH_PEERS:-$top/../shared/peers}
PEER_CACHE=${KILN_CACHE:-$HOME/.cache/kiln}/peers
PEER_GUESTS=$OUT/peers
peer_samples=$OUT/peer-samples.txt peer_notes=$OUT/peer-notes.txt
: > "$peer_samples"; : > "$peer_notes"
LKVM='' peer_build_tried=0

peer_note() { echo "$*" >> "$peer_notes"; }
peer_sample() { echo "$1 $2 $3" >> "$peer_samples"; }

# Builds lkvm into the cache unless it is there; sets LKVM, or returns 1 with a note saying why not.
# Once per run: the tiny rows and the Linux rows (bench.sh, linux_figures) both ask.
peer_kvmtool_build() {
	local tgz=$PEERS_SRC/kvmtool-b48735e.tar.gz patch=$PEERS_SRC/kvmtool-pvm.patch key dir
	[ $peer_build_tried = 0 ] || { [ -n "$LKVM" ]; return; }
	peer_build_tried=1
	if [ ! -r "$tgz" ] || [ ! -r "$patch" ]; then
		peer_note "kvmtool: not measured: its source is not in $PEERS_SRC (set BENCH_PEERS)"
		return 1
	fi
	key=$(cat "$tgz" "$patch" | sha256sum | cut -c1-16)
	dir=$PEER_CACHE/kvmtool-$key
	if [ ! -x "$dir/lkvm" ]; then
		say "kvmtool: building lkvm once into $dir"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" || return 1
		if ! (tar -xzf "$tgz" -C "$dir.tmp" && cd "$dir.tmp"/kvmtool-* && patch -s -p1 < "$patch" &&
			make -j2 lkvm) > "$OUT/kvmtool-build.log" 2>&1; then
			peer_note "kvmtool: not measured: its build failed (see $OUT/kvmtool-build.log)"
			return 1
		fi
		mkdir -p "$dir" && cp "$dir.tmp"/kvmtool-*/lkvm "$dir/lkvm" && rm -rf "$dir.tmp" || return 1
	fi
	LKVM=$dir/lkvm
}

# The command lines: the same machine size, the serial console, no network, no other device (kvmtool's
# --nodefaults: no virtio-9p root file system); kiln's API process boots the same guest from a
# Firecracker config file with its API socket open.
peer_cmd() {
	case $1 in
	kiln) echo "$KILN run --kernel $TINY/$2.elf --cpus 1 --mem ${MEM_MIB}M" ;;
	kiln-api) echo "$KILN --api-sock $OUT/peer-api.sock --config-file $OUT/peer-vm-$2.json" ;;
	kvmtool) echo "$LKVM run --nodefaults -m $MEM_MIB -c 1 --console serial -n mode=none -k $PEER_GUESTS/${2}16.bin" ;;
	esac
}

# peer_run SIDE GUEST STOPWATCH-OPTS...: one stopwatch run; prints its result line. kvmtool reads
# LKVM_SKIP_VMX_CHECK (the PVM patch) and keeps its state under $HOME/.lkvm: a scratch HOME here.
peer_run() {
	local side=$1 guest=$2
	shift 2
	# shellcheck disable=SC2046
	LKVM_SKIP_VMX_CHECK=1 HOME=$OUT/kvmtool-home $SW "$@" -t 30000 -o "$OUT/peer.out" -- $(peer_cmd "$side" "$guest")
}

peer_config() {
	printf '{ "boot-source": { "kernel_image_path": "%s" },\n  "machine-config": { "vcpu_count": 1, "mem_size_mib": %s } }\n' \
		"$top/$TINY/$1.elf" "$MEM_MIB" > "$OUT/peer-vm-$1.json"
}

# Per VM, kiln (`kiln run`, and its API process) against kvmtool: exec -> exit, CPU, peak RSS, the same
# less the guest's RAM touched, and VMs/s with 2 at a time.
peer_figures() {
	local i side r
	peer_kvmtool_build || return 0
	mkdir -p "$OUT/kvmtool-home" || return 1
	peer_config ready
	peer_config idle
	peer_note "kvmtool: $($LKVM version 2>&1 | head -n 1) (b48735e + the PVM patch), lkvm run --nodefaults; guests: bench/peers/*.S, flat binaries doing what bench/tiny's do"
	peer_note "kiln API process: kiln --api-sock S --config-file F (the guest booted from a Firecracker config file, the API served); its kvmtool column is lkvm run's, kvmtool's only mode"
	say "tiny guests against kvmtool: $N_TINY runs each, interleaved"
	for i in $(seq "$N_TINY"); do
		for side in kiln kiln-api kvmtool; do
			r=$(peer_run $side ready -m READY)
			echo "peer ready $side $r" >> "$log"
			if [ "$(field status "$r")" = 0 ] && [ "$(field m1_ms "$r")" != NA ]; then
				peer_sample_run "$side" "$r"
			else
				problem "tiny ready run $i under $side failed: $r"
			fi
			r=$(peer_run $side idle -m READY -s -k -g $((MEM_MIB * 1024)))
			echo "peer idle $side $r" >> "$log"
			if [ -n "$(field hwm_kb "$r")" ] && [ "$(field hwm_kb "$r")" != NA ]; then
				peer_sample_idle "$side" "$r"
			else
				problem "tiny idle run $i under $side failed: $r"
			fi
		done
	done
	say "tiny guests against kvmtool: VMs per second, 2 at a time, $RATE_CHUNKS x ${RATE_CHUNK_S} s each"
	for i in $(seq "$RATE_CHUNKS"); do
		for side in kiln kvmtool; do
			# shellcheck disable=SC2046
			r=$(LKVM_SKIP_VMX_CHECK=1 HOME=$OUT/kvmtool-home $SW rate -j 2 -d "$RATE_CHUNK_S" -e 0 -- $(peer_cmd $side ready))
			echo "peer rate $side $r" >> "$log"
			[ "$(field failed "$r")" = 0 ] || problem "VMs/s chunk $i under $side: some runs failed: $r"
			peer_sample tiny.vms_per_s "$side" "$(field vms_per_s "$r")"
		done
	done
}

# A ready run's figures; kvmtool's also stand for the API rows (its only mode).
peer_sample_run() {
	local side=$1 r=$2 rows="tiny" s
	[ "$side" = kiln-api ] && rows="api" side=kiln
	[ "$side" = kvmtool ] && rows="tiny api"
	for s in $rows; do
		peer_sample $s.exit_ms "$side" "$(field exit_ms "$r")"
		peer_sample $s.cpu_ms "$side" "$(field cpu_ms "$r")"
		peer_sample $s.peak_rss_mib "$side" "$(awk -v k="$(field maxrss_kb "$r")" 'BEGIN { printf "%.2f", k / 1024 }')"
	done
}

peer_sample_idle() {
	local side=$1 r=$2 rows="tiny" s v
	[ "$side" = kiln-api ] && rows="api" side=kiln
	[ "$side" = kvmtool ] && rows="tiny api"
	v=$(awk -v h="$(field hwm_kb "$r")" -v g="$(field guest_kb "$r")" 'BEGIN { printf "%.2f", (h - g) / 1024 }')
	for s in $rows; do
		peer_sample $s.overhead_mib "$side" "$v"
	done
}

# Prints the table (kiln/kvmtool ratios of the medians) and writes results-kvmtool.json.
peer_report() {
	cat > "$OUT/peer-figures.txt" <<EOF
tiny.exit_ms|tiny: exec -> exit|ms|lower
tiny.cpu_ms|tiny: CPU per VM (user+sys)|ms|lower
tiny.peak_rss_mib|tiny: peak RSS|MiB|lower
tiny.overhead_mib|tiny: peak RSS - guest RAM touched|MiB|lower
tiny.vms_per_s|tiny: VMs/s, 2 at a time|VMs/s|higher
api.exit_ms|API process: exec -> exit|ms|lower
api.cpu_ms|API process: CPU per VM (user+sys)|ms|lower
api.peak_rss_mib|API process: peak RSS|MiB|lower
api.overhead_mib|API process: peak RSS - guest RAM touched|MiB|lower
linux.ready_ms|linux: exec -> READY line|ms|lower
linux.exit_ms|linux: exec -> exit (-- echo READY)|ms|lower
linux.cpu_ms|linux: CPU per VM (monitor + vCPU)|ms|lower
linux.overhead_mib|linux: peak RSS - guest RAM touched|MiB|lower
linux.guest_touched_mib|linux: guest RAM touched at READY|MiB|info
EOF
	# The Linux rows' kiln and kvmtool samples, from the main table's runs (bench/linux.sh boots
	# kiln, QEMU and kvmtool in turn).
	grep -E '^linux\.[a-z_]+ (kiln|kvmtool) ' "$samples" >> "$peer_samples"
	[ -n "$LKVM" ] && [ "$where" != off ] && peer_note "kvmtool, Linux rows: in the test host as the main" \
		"table's, lkvm run --nodefaults -m $MEM_MIB -c 1 --console serial -n mode=none -k bzImage -i" \
		"initramfs -p '<kiln's command line>'; its exit is the guest's reboot (init's status byte goes" \
		"to a port kvmtool ignores), kiln's and QEMU's the status byte"
	echo
	echo "kiln against kvmtool, per VM (tiny guests) and the Linux boot (test host):"
	awk -f bench/report.awk -v quick="$quick" -v json="$OUT/results-kvmtool.json" -v notes="$peer_notes" \
		-v peer=kvmtool -v peer_label=kvmtool "$OUT/peer-figures.txt" "$peer_samples"
}
