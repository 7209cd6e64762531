#!/usr/bin/env bash
# Run a command inside a prepared chroot (test/majors/prepare_chroot.sh) on a
# copy of this repository, with /proc and a /dev/shm of its own mounted for
# the duration, and unmounted however the command ends.
#
#   bash test/majors/in_chroot.sh ROOT COMMAND...     (as root; COMMAND runs
#                                                    in the copy, /mg)
set -u
cd "$(dirname "$0")/../.."
root=$1
shift
rm -rf "$root/mg"
mkdir -p "$root/mg"
# the working tree as it is, without build products or earlier results
tar -c --exclude=.git --exclude='*.o' --exclude='*.so' --exclude=./client/migration_guard --exclude=test/tmp \
	--exclude=results --exclude=tmp_check --exclude=node_modules . | tar -x -C "$root/mg"
# this machine's name servers and the CAs it trusts (npm goes through them)
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# whatever the command leaves running in the chroot (a server of a suite
# that crashed) is stopped, then the mounts go, however the command ends
cleanup() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$(readlink -f "$root")" ] &&
			kill -9 "${p#/proc/}" 2>/dev/null
	done
	umount -l "$root/dev/shm" 2>/dev/null
	umount -l "$root/proc" 2>/dev/null
}
trap cleanup EXIT
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
# POSIX shared memory (PostgreSQL's dynamic shared memory) lives in /dev/shm
mkdir -p "$root/dev/shm" && chmod 1777 "$root/dev/shm"
mountpoint -q "$root/dev/shm" || mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	TERM=dumb bash -c 'cd /mg && "$@"' bash "$@"
rc=$?
# what a failed suite left for reading (diffs, results), next to the repository's
if [ -d "$root/mg/test/tmp" ]; then
	mkdir -p test/tmp
	rm -rf "test/tmp/$(basename "$root")"
	cp -r "$root/mg/test/tmp" "test/tmp/$(basename "$root")"
fi
exit $rc
