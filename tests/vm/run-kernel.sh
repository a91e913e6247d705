#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run test binaries inside a qemu VM on one of Debian's kernels (make test-kernel KERNEL=6.1).
#
#   tests/vm/run-kernel.sh KERNEL OUT BINARY...
#
# KERNEL is a Debian kernel series (6.1: the newest linux-image-6.1.0-N-amd64-unsigned that
# apt knows). Its package is fetched with apt-get download once and cached under OUT/vm/, with
# an initramfs built from busybox and the kernel's virtio, 9p and overlay modules
# (tests/vm/init). The VM shares this machine's root read-only over 9p (a tmpfs overlay takes
# the guest's writes) and OUT/vm/scratch read-write, and runs tests/vm/guest.sh, which runs
# the binaries with tests/run-tests: its "N passed, N failed, N skipped" line is repeated here
# last. KVM is used when /dev/kvm works (a probe boot says so), TCG otherwise; the whole run is
# bounded by VM_TIMEOUT seconds (default 1500). Exit status: 0 when every test passed; 1 when
# one failed, the VM did not boot, or the run timed out.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ $# -ge 3 ] || { echo "usage: $0 KERNEL OUT BINARY..." >&2; exit 2; }
series=$1 out=$(realpath -m "$2")
shift 2
VM_TIMEOUT=${VM_TIMEOUT:-1500}
VM_MEM=${VM_MEM:-4096}
VM_CPUS=${VM_CPUS:-2}
vm=$out/vm/$series
die() { echo "test-kernel: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (9p passthrough of the root, BPF in the guest)"
[ "$(uname -m)" = x86_64 ] || die "x86_64 hosts only (Debian's amd64 kernel under qemu)"
for t in qemu-system-x86_64 busybox depmod; do
	command -v $t >/dev/null || die "no $t: make deps installs it"
done
mkdir -p "$vm"

# 1. The kernel package: the newest of the series that apt knows, downloaded once.
pkg=$(apt-cache search --names-only "^linux-image-${series//./\\.}\\.0-[0-9]+-amd64-unsigned\$" |
	awk '{print $1}' | sort -V | tail -n 1)
if [ -z "$pkg" ]; then
	cached=$(ls "$vm"/linux-image-*.deb 2>/dev/null | sort -V | tail -n 1 || true)
	[ -n "$cached" ] || die "apt knows no linux-image-$series.0-*-amd64-unsigned (apt-get update?)"
	pkg=$(basename "$cached" | cut -d_ -f1)
fi
deb=$(ls "$vm"/"${pkg}"_*.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$deb" ]; then
	echo "test-kernel: downloading $pkg"
	(cd "$vm" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
		die "apt-get download $pkg failed"
	deb=$(ls "$vm"/"${pkg}"_*.deb | tail -n 1)
fi

# 2. vmlinuz and an initramfs: busybox, tests/vm/init, the modules that mount the root.
kroot=$vm/root
initrd=$vm/initrd.cpio
if [ ! -e "$kroot/.done" ] || [ "$deb" -nt "$kroot/.done" ]; then
	rm -rf "$kroot" && mkdir -p "$kroot"
	dpkg-deb -x "$deb" "$kroot"
	# Its modules.dep, for the guest's modprobe (veth for the network-namespace tests).
	depmod -b "$kroot" "$(ls "$kroot/lib/modules" | head -n 1)" || die "depmod failed"
	touch "$kroot/.done"
fi
kver=$(ls "$kroot/lib/modules" | head -n 1)
kernel=$kroot/boot/vmlinuz-$kver
[ -e "$kernel" ] || die "no vmlinuz in $deb"
if [ ! -e "$initrd" ] || [ tests/vm/init -nt "$initrd" ] || [ "$kroot/.done" -nt "$initrd" ]; then
	ir=$vm/initramfs
	rm -rf "$ir" && mkdir -p "$ir"/{bin,dev,proc,sys,lib/modules/"$kver"}
	cp /bin/busybox "$ir/bin/busybox"
	for a in sh mount umount modprobe mkdir cat poweroff sleep switch_root; do
		ln -s busybox "$ir/bin/$a"
	done
	cp tests/vm/init "$ir/init"
	mknod "$ir/dev/console" c 5 1
	mods="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache"
	mods="$mods 9pnet 9pnet_virtio 9p overlay"
	for m in $mods; do
		f=$(find "$kroot/lib/modules/$kver/kernel" -name "$m.ko*" | head -n 1)
		[ -n "$f" ] || die "no module $m in $pkg"
		mkdir -p "$ir/$(dirname "${f#"$kroot"/}")"
		cp "$f" "$ir/${f#"$kroot"/}"
	done
	cp "$kroot/lib/modules/$kver"/modules.{order,builtin}* "$ir/lib/modules/$kver/" 2>/dev/null || true
	depmod -b "$ir" "$kver" || die "depmod failed"
	(cd "$ir" && find . | busybox cpio -o -H newc -R 0:0 >"../initrd.cpio.tmp" 2>/dev/null)
	mv "$vm/initrd.cpio.tmp" "$initrd"
fi

# 3. The scratch dir: what to run, and where the guest writes its output and status.
scratch=$vm/scratch
rm -rf "$scratch" && mkdir -p "$scratch"
echo "$PWD" >"$scratch/dir"
echo "$PWD/tests/vm/guest.sh" >"$scratch/guest"
echo "$kroot/lib/modules/$kver" >"$scratch/modules"
printf '%s\n' "$@" >"$scratch/tests"

boot() { # boot ACCEL TIMEOUT [extra kernel args]: qemu's console on stdout
	local accel=$1 secs=$2
	shift 2
	timeout --kill-after=10 "$secs" qemu-system-x86_64 -machine q35,accel="$accel" \
		$([ "$accel" = kvm ] && echo "-cpu host" || echo "-cpu max") \
		-smp "$VM_CPUS" -m "$VM_MEM" -nodefaults -no-reboot -display none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init $*" \
		-fsdev local,id=root,path=/,security_model=passthrough,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
		-fsdev local,id=scratch,path="$scratch",security_model=passthrough,multidevs=remap \
		-device virtio-9p-pci,fsdev=scratch,mount_tag=scratch </dev/null
}

# 4. KVM when it works here (a short probe boot runs `true` as the test list), TCG otherwise.
accel=tcg
if [ -w /dev/kvm ] && [ "${VM_ACCEL:-}" != tcg ]; then
	cp "$scratch/tests" "$scratch/tests.real" && echo true >"$scratch/tests"
	if boot kvm 60 >"$vm/kvm-probe.log" 2>&1 && [ -e "$scratch/status" ]; then
		accel=kvm
	else
		echo "test-kernel: KVM did not boot the guest (see $vm/kvm-probe.log): TCG"
	fi
	mv "$scratch/tests.real" "$scratch/tests" && rm -f "$scratch/status" "$scratch/output"
fi
[ -x "$out/vigil" ] && echo "$out/vigil" >"$scratch/vigil"

echo "test-kernel: $pkg ($kver) under qemu/$accel, $VM_CPUS vCPUs, $VM_MEM MiB," \
	"$# test binaries, at most $VM_TIMEOUT s"
start=$(date +%s)
set +e
boot "$accel" "$VM_TIMEOUT" | tee "$vm/console.log"
qrc=${PIPESTATUS[0]}
set -e
secs=$(($(date +%s) - start))
if [ ! -e "$scratch/status" ]; then
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="timed out after $VM_TIMEOUT s" ||
		why="qemu exited with status $qrc"
	echo "test-kernel: the guest on $kver gave no result: $why (console: $vm/console.log)" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
status=$(cat "$scratch/status")
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$scratch/output" | tail -n 1)
echo "test-kernel: $kver under qemu/$accel in $secs s"
echo "${summary:-0 passed, 1 failed, 0 skipped}"
[ "$status" = 0 ] && [ -n "$summary" ]
