#!/usr/bin/env bash
# scripts/deps.sh: installs every Debian 12 package needed to build and test
# sipas, on a fresh machine as root. Idempotent: when everything is already
# installed it only asks dpkg and exits, without touching apt.
#
#	bash scripts/deps.sh        (scripts/test.sh runs it first)
set -euo pipefail

# ---------------------------------------------------------------------------
# THE PACKAGE LIST. Add what new code needs here (e.g. kannel, chromium), with
# a word on who needs it. Debian 12 (bookworm) package names.
# ---------------------------------------------------------------------------
SIPAS_DEB_PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config git ca-certificates
	# libraries (configure.ac); libssl-dev is libcrypto (token and content hashes)
	libevent-dev libpq-dev libjansson-dev libgsl-dev libcsv-dev libssl-dev
	# sipasd's allocator (configure.ac; glibc's malloc without it)
	libmimalloc-dev
	# integration tests: a real PostgreSQL (initdb, pg_ctl), HTTP and JSON checks
	postgresql curl jq
	# free-port and listening checks in the integration tests (ss)
	iproute2
	# the statistical reference: tests/tools/oracle.R, gen_responses.R
	r-base-core r-cran-survey r-cran-jsonlite
	# bench/analyze.sh: GNU time for the maximum resident set size
	time
	# bench/ingest.sh: the HTTP load generator (Debian 12: wrk 4.1.0)
	wrk
	# web form posters (ctl/poster.c): QR codes, cairo, the embedded font;
	# pdftotext/pdftoppm for tests and docs; the browser test: headless chromium
	libqrencode-dev libcairo2-dev fonts-dejavu-core poppler-utils chromium chromium-driver
	# the SMS integration test: a real Kannel (bearerbox, smsbox; fakesmsc is in -extras)
	kannel kannel-extras
	# reports: PDF via cairo + fontconfig with DejaVu, XLSX via
	# libxlsxwriter; the report test reads them back with poppler-utils, unzip
	libcairo2-dev libfontconfig-dev libxlsxwriter-dev fonts-dejavu-core poppler-utils unzip
	# spreadsheets in: XLSX (zip + streamed XML), Windows-1258 text to NFC;
	# tests write workbooks with another program (openpyxl)
	libzip-dev libexpat1-dev libunistring-dev python3-openpyxl
	# people's accounts: Argon2id password hashes
	libargon2-dev
	# scripts/cluster.sh: PostgreSQL failover (pg_auto_failover) behind HAProxy
	postgresql-15-auto-failover pg-auto-failover-cli haproxy
	# the manual pages' test (tests/integration/man_pages.sh): groff and man -l
	groff-base man-db
	# the fuzzers (tests/fuzz/run.sh): clang with libFuzzer and the sanitizers
	clang libclang-rt-14-dev
)
# ---------------------------------------------------------------------------

missing=()
for p in "${SIPAS_DEB_PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#SIPAS_DEB_PACKAGES[@]} packages installed"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo -E"
	else
		echo "deps: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
