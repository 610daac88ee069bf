# Where the tiny-guest suites run. They need a /dev/kvm this machine can use (PVM or hardware KVM).
# Where there is none (a VM without nested virtualisation; a kernel that is itself a PVM guest, whose
# kvm_pvm does not bind), they run inside the KVM test host instead (tests/host/run.sh, nested KVM):
# each file they use is copied in at its own path below /payload, where the command runs, so the
# command is the same in both places. The suites' shell there is dash, not busybox's sh, which runs
# its own applets before the PATH's programs (or lacks them): timeout (--preserve-status), cp (--sparse),
# du (-B), nice, pgrep (-P), script, setpriv (--reuid) and ip (netns, tuntap) are then GNU's, procps',
# util-linux's and iproute2's, as here (run.sh puts /payload first on the PATH).
KVM_HERE := $(shell [ -r /dev/kvm ] && [ -w /dev/kvm ] && echo yes)
KVM_HOST_TOOLS := /usr/bin/timeout /usr/bin/script /usr/bin/setpriv /usr/sbin/ip /usr/bin/curl /bin/cp \
	/usr/bin/du /usr/bin/pgrep /usr/bin/nice

# $(call on_kvm,WHAT,FILES,COMMAND): COMMAND (a shell command list without single quotes) here, or
# inside a one-CPU test host (tests/host/README.md, "One CPU") with FILES, from a script of its own
# ($(BUILD)/on-kvm/WHAT.sh) run by dash (busybox's sh runs its applets first, and a script run by
# path leaves it), with a devpts for script(1) and stdin from /dev/null, as in CI (the console is a
# terminal there, and GNU timeout puts its command in a background process group: a kiln setting a
# terminal up would stop on SIGTTOU).
on_kvm = $(if $(KVM_HERE),$(3),echo "$(1): no usable /dev/kvm here: inside the KVM test host"; \
	mkdir -p $(BUILD)/on-kvm && \
	printf '%s\n' 'mkdir -p /dev/pts && mount -t devpts devpts /dev/pts || exit 1' '$(strip $(3))' \
		> $(BUILD)/on-kvm/$(1).sh && \
	tests/host/run.sh -c 1 -f /bin/dash:/bin/sh -f $(BUILD)/on-kvm/$(1).sh:/payload/on-kvm.sh \
		$(foreach f,$(2),-f $(f):/payload/$(f)) $(foreach t,$(KVM_HOST_TOOLS),-f $(t)) \
		-- 'exec /bin/sh /payload/on-kvm.sh </dev/null')
