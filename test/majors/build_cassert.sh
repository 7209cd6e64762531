#!/usr/bin/env bash
# PostgreSQL 15 built with assertions (--enable-cassert --enable-debug) from
# bookworm's own source package, with pgaudit from its source package, into
# a cache outside the repository.  A second run finds the stamp and returns.
#
#   bash test/majors/build_cassert.sh CACHE_DIR      (as root)
#
# Installs into CACHE_DIR/pg15-cassert: server, contrib, the TAP modules,
# pg_regress and pg_isolation_regress under pgxs, as postgresql-server-dev
# does; and PostgreSQL's own regression suite (parallel_schedule, sql,
# expected, data and its regress.so) in regress-suite, which
# test/postgres_suite/run.sh runs with and without the guard.  Any 15.x
# source serves: the mirror may list a newer version than it can deliver,
# so each listed version is tried, newest first.  Each part has its stamp,
# so that a cache made before a part existed gets only that part.
set -eu
cache=$1
prefix=$cache/pg15-cassert
suite=$prefix/regress-suite
[ -f "$prefix/.complete" ] && [ -f "$suite/.complete" ] && exit 0
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
rm -rf "$src"/*

# the source tree, unpacked in $src; prints the version it got
get_source() {
	local v
	for v in $(apt-cache showsrc postgresql-15 | sed -n 's/^Version: //p' | sort -rV); do
		if (cd "$src" && apt-get source --download-only "postgresql-15=$v" >/dev/null 2>&1); then
			(cd "$src" && tar xjf postgresql-15_*.orig.tar.bz2)
			echo "$v"
			return 0
		fi
	done
	echo "no postgresql-15 source could be downloaded" >&2
	return 1
}

got=""
if [ ! -f "$prefix/.server" ]; then
	rm -rf "$prefix"
	got=$(get_source)
	cd "$src"/postgresql-15.*/
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

# PostgreSQL's regression suite, as src/test/regress runs it: regress.so
# built with PGXS, and the modules of contrib/spi that its tests load from
# the same directory (pg_regress --dlpath)
if [ ! -f "$suite/.complete" ]; then
	[ -n "$got" ] || got=$(get_source)
	regress=$(echo "$src"/postgresql-15.*/src/test/regress)
	rm -rf "$suite"
	mkdir -p "$suite"
	cp -r "$regress"/sql "$regress"/expected "$regress"/data "$regress"/parallel_schedule \
		"$regress"/resultmap "$regress"/regress.c "$suite"/
	cat > "$suite/Makefile" <<'MK'
MODULES = regress
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
MK
	make -s -C "$suite" PG_CONFIG="$prefix/bin/pg_config" >"$src/regress-suite.log" 2>&1
	pkglib=$("$prefix/bin/pg_config" --pkglibdir)
	ln -sf "$pkglib/autoinc.so" "$pkglib/refint.so" "$suite"/
	echo "$got" > "$suite/.complete"
fi

# pgaudit, for the co-existence test, from its own source package
[ -f "$prefix/.complete" ] && { rm -rf "$src"; exit 0; }
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
