#!/usr/bin/env bash
# The whole test command: every suite (test/run_suites.sh) on every supported
# PostgreSQL major, and one line "N passed, N failed" for all of them.
#
#   sudo bash test/run_tests.sh                   (the matrix: 15 17 18 15-cassert)
#   sudo PG_MAJORS="15" bash test/run_tests.sh    (a subset, for quick work)
#
# The columns of the matrix:
#   15          Debian bookworm's own packages, on this machine
#   17, 18      trixie's and sid's packages, in a chroot each
#   15-cassert  bookworm's postgresql-15 source built with assertions
# The chroots and the assert build are made on the first run (about 2
# minutes per chroot, 10 for the assert build) and cached in MG_CACHE
# (default /var/cache/migration_guard), outside the repository; later runs
# pay nothing for them.
#
# Run as a non-root user it runs the suites on the installed 15 only (or on
# PG_CONFIG), without installing anything.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
cache=${MG_CACHE:-/var/cache/migration_guard}
majors=${PG_MAJORS:-15 17 18 15-cassert}

log() { echo "== $*"; }

if [ "$(id -u)" != 0 ]; then
	exec bash test/run_suites.sh "${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
fi

# what the host itself needs: 15 natively, node for the client tests
prepare_host() {
	local need="" pkg
	for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib postgresql-15-pgaudit \
		postgresql-15-repack make gcc libipc-run-perl; do
		dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
	done
	# the client tests need node and npm (any recent nodejs; Debian splits npm off)
	command -v node >/dev/null 2>&1 || need="$need nodejs"
	command -v npm >/dev/null 2>&1 || need="$need npm"
	if [ -n "$need" ]; then
		log "installing:$need"
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
	fi
}

# a chroot to make needs the package lists of the day (once, not per major)
for major in $majors; do
	case "$major" in
		17 | 18)
			if [ ! -f "$cache/chroot-$major/.complete" ]; then
				apt-get update -q >/dev/null
				break
			fi ;;
	esac
done

total_passed=0
total_failed=0
summary=""
ran=0
for major in $majors; do
	ran=$((ran + 1))
	out=$(mktemp /tmp/mg_major.XXXXXX)
	log "PostgreSQL $major"
	started=$(date +%s)
	case "$major" in
		15)
			prepare_host &&
				bash test/run_suites.sh /usr/lib/postgresql/15/bin/pg_config ;;
		15-cassert)
			prepare_host &&
				bash test/majors/build_cassert.sh "$cache" &&
				bash test/run_suites.sh "$cache/pg15-cassert/bin/pg_config" ;;
		17 | 18)
			bash test/majors/prepare_chroot.sh "$cache" "$major" &&
				bash test/majors/in_chroot.sh "$cache/chroot-$major" \
					bash test/run_suites.sh "/usr/lib/postgresql/$major/bin/pg_config" ;;
		*)
			echo "unknown major \"$major\" (known: 15 17 18 15-cassert)" ;;
	esac 2>&1 | tee "$out"
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	rm -f "$out"
	if [ -n "$last" ]; then
		p=${last%% passed*}
		f=${last#*passed, }
		f=${f%% failed}
	else
		p=0
		f=1		# it did not get as far as counting
		last="0 passed, 1 failed (did not run to the end)"
	fi
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	summary="$summary== PostgreSQL $major: $last ($(( $(date +%s) - started )) s)"$'\n'
done

if [ "$ran" = 0 ]; then
	summary="== no major given (PG_MAJORS is empty)"$'\n'
	total_failed=1
fi
printf '\n%s' "$summary"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" = 0 ]
