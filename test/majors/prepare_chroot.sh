#!/usr/bin/env bash
# A Debian chroot with one PostgreSQL major from Debian's own packages (17
# from trixie, 18 from sid) and what the suites need, cached outside the
# repository.  A second run finds it complete and returns at once.
#
#   bash test/majors/prepare_chroot.sh CACHE_DIR MAJOR      (as root)
#
# Builds CACHE_DIR/chroot-MAJOR.tmp with debootstrap (from its default
# mirror, deb.debian.org, which this machine's apt uses too), then renames
# it: a run that was interrupted starts over.  Delete the directory to have
# it made again from the suite of the day (sid moves).
set -eu
cache=$1
major=$2
case "$major" in
	17) suite=trixie ;;
	18) suite=sid ;;
	*) echo "no Debian suite known for PostgreSQL $major" >&2; exit 2 ;;
esac
root=$cache/chroot-$major
log=$cache/debootstrap-$major.log
# What the suites have needed since the chroot was made (TAP 010 runs
# pg_repack): added to a complete chroot, or else that test skips
extras=postgresql-$major-repack
if [ -f "$root/.complete" ]; then
	chroot "$root" dpkg -s $extras >/dev/null 2>&1 && exit 0
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# sid's Release file on the mirror this machine reaches may be past its
	# Valid-Until date; the packages in it are what we want all the same
	{ chroot "$root" env DEBIAN_FRONTEND=noninteractive \
			apt-get -o Acquire::Check-Valid-Until=false update -q &&
		chroot "$root" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $extras &&
		chroot "$root" apt-get clean; } >>"$log" 2>&1 ||
		echo "could not install $extras in the PostgreSQL $major chroot (see $log): TAP 010 skips"
	exit 0
fi

command -v debootstrap >/dev/null 2>&1 ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
tmp=$root.tmp
# an earlier run killed half way may have left mounts in either
for dir in "$tmp" "$root"; do
	for m in proc sys dev/shm dev/pts; do
		umount -l "$dir/$m" 2>/dev/null || true
	done
done
rm -rf --one-file-system "$tmp" "$root"
mkdir -p "$cache"
trap 'echo "preparing the PostgreSQL $major chroot failed; the end of $log:" >&2; tail -n 20 "$log" >&2' ERR
pkgs=postgresql-$major,postgresql-server-dev-$major,postgresql-$major-pgaudit
pkgs=$pkgs,make,gcc,libc6-dev,perl,libipc-run-perl,ca-certificates
debootstrap --variant=minbase --include="$pkgs" "$suite" "$tmp" >"$log" 2>&1
# The client tests run node-pg-migrate; Debian's nodejs and npm of that suite
cp /etc/resolv.conf "$tmp/etc/resolv.conf"
chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends nodejs npm $extras >>"$log" 2>&1
# npm's settings on this machine (its CA file), where there are any
[ -f /etc/npmrc ] && cp /etc/npmrc "$tmp/etc/npmrc"
chroot "$tmp" apt-get clean
touch "$tmp/.complete"
mv "$tmp" "$root"
