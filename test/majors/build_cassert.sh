#!/usr/bin/env bash
# PostgreSQL 15 built with assertions (--enable-cassert --enable-debug) from
# bookworm's own source package, with pgaudit from its source package, into
# a cache outside the repository.  A second run finds the stamp and returns.
#
#   bash test/majors/build_cassert.sh CACHE_DIR      (as root)
#
# Installs into CACHE_DIR/pg15-cassert: server, contrib, the TAP modules,
# pg_regress and pg_isolation_regress under pgxs, as postgresql-server-dev
# does.  Any 15.x source serves: the mirror may list a newer version than it
# can deliver, so each listed version is tried, newest first.
set -eu
cache=$1
prefix=$cache/pg15-cassert
[ -f "$prefix/.complete" ] && exit 0
trap 'echo "the assert-enabled build failed at line $LINENO; its logs are in $cache/src15" >&2' ERR

if ! apt-cache showsrc postgresql-15 2>/dev/null | grep -q '^Version:'; then
	# the same suites and mirror as bookworm's deb entries, for sources
	cat > /etc/apt/sources.list.d/migration_guard-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -q >/dev/null
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc make bzip2 xz-utils dpkg-dev libipc-run-perl >/dev/null

src=$cache/src15
mkdir -p "$src"
cd "$src"
if [ ! -f "$prefix/.server" ]; then
	rm -rf "$src"/* "$prefix"
	got=""
	for v in $(apt-cache showsrc postgresql-15 | sed -n 's/^Version: //p' | sort -rV); do
		if apt-get source --download-only "postgresql-15=$v" >/dev/null 2>&1; then got=$v; break; fi
	done
	[ -n "$got" ] || { echo "no postgresql-15 source could be downloaded" >&2; exit 1; }
	tar xjf postgresql-15_*.orig.tar.bz2
	cd postgresql-15.*/
	# No readline, zlib or ICU: the tests need none of them, and the build needs
	# no -dev package beyond the compiler.
	./configure --prefix="$prefix" --enable-cassert --enable-debug --enable-tap-tests \
		--without-readline --without-zlib --without-icu >configure.log 2>&1
	make -s -j"$(nproc)" world-bin >build.log 2>&1
	make -s install-world-bin >install.log 2>&1
	make -s -C src/test/regress install >>install.log 2>&1
	make -s -C src/test/isolation install >>install.log 2>&1
	echo "$got" > "$prefix/.server"
fi

# pgaudit, for the co-existence test, from its own source package
cd "$src"
rm -rf pgaudit*
# only the upstream tarball is needed; the mirror may lack the Debian part
apt-get source --download-only postgresql-15-pgaudit >/dev/null 2>&1 || true
ls pgaudit*.orig.tar.gz >/dev/null 2>&1 || { echo "could not download pgaudit's source" >&2; exit 1; }
tar xzf pgaudit*.orig.tar.gz
cd "$(find . -maxdepth 1 -type d -name 'pgaudit*' | head -n 1)"
make -s USE_PGXS=1 PG_CONFIG="$prefix/bin/pg_config" install >"$src/pgaudit.log" 2>&1

cp "$prefix/.server" "$prefix/.complete"
rm -rf "$src"
