#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# PID 1 of the test VM, inside the host's root (read-only 9p under a tmpfs overlay; see
# tests/vm/init): lay out the system the tests expect on the development machine — proc, sys,
# /dev, a cgroup v1 memory controller beside cgroup v2 at /sys/fs/cgroup/unified, tracefs left
# for vigil to mount, loopback up — then run the test binaries named in /vm-scratch/tests with
# tests/run-tests from the worktree named in /vm-scratch/dir, after `vigil doctor` (the binary
# named in /vm-scratch/vigil, if any). Its output goes to the console
# and to /vm-scratch/output, its exit status to /vm-scratch/status; then the VM powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
S=/vm-scratch

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
# The worktree may live under /tmp, /run or /dev/shm (CI's clone does), which the tmpfs mounts
# below would hide: held aside first, and put back at the same path on top of them.
dir=$(cat $S/dir)
mkdir -p /vm-hold
mount --bind "$dir" /vm-hold
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=0755 run /run
if [ ! -e "$dir/tests/vm/guest.sh" ]; then
	mkdir -p "$dir"
	mount --bind /vm-hold "$dir"
fi
mkdir -p /run/postgresql /run/redis /run/lock
chown postgres:postgres /run/postgresql 2>/dev/null
mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/unified /sys/fs/cgroup/memory
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
mount -t cgroup -o memory memory /sys/fs/cgroup/memory
# The kernel's own modules (the host's /lib/modules is for its own kernel): veth, for the
# tests that make network namespaces.
mkdir -p "/lib/modules/$(uname -r)"
mount --bind "$(cat $S/modules)" "/lib/modules/$(uname -r)"
ip link set lo up
# An IPv4 address beyond loopback (the guest has no network card), for the tests that post from
# one: test_alerts' test_remote_forbidden. A veth pair, whose module the namespace tests load.
if ip link add vm0 type veth peer name vm1 2>/dev/null; then
	ip addr add 10.213.0.1/24 dev vm0 && ip link set vm0 up && ip link set vm1 up
else
	echo "vm: no veth pair, so no address beyond loopback"
fi
hostname vigil-vm

echo "vm: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB"
cd "$dir" || {
	echo 1 >$S/status
	poweroff -f
}
# What this kernel offers, as vigil sees it (the README's kernel table, checked).
if [ -s $S/vigil ]; then
	"$(cat $S/vigil)" doctor >$S/doctor 2>&1
	cat $S/doctor
fi
# shellcheck disable=SC2046
{
	tests/run-tests $(cat $S/tests)
	echo $? >$S/status
} 2>&1 | tee $S/output
sync
poweroff -f
