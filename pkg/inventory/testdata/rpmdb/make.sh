#!/usr/bin/env bash
# Makes the rpm databases TestReadRpmDB reads, with Debian's own tools
# (apt-get install rpm db5.3-util sqlite3; tested with rpm 4.18.0 and
# Berkeley DB 5.3 of Debian 12):
#
#   sqlite/rpmdb.sqlite  rpm 4.16+'s SQLite database, as Amazon Linux 2023
#                        keeps it, written by rpm itself;
#   bdb/Packages         the Berkeley DB hash database of rpm <= 4.15, as
#                        Amazon Linux 2 keeps it. Debian's rpm reads that
#                        format but cannot write it (backends: sqlite bdb_ro),
#                        so db_load writes it from the same header blobs,
#                        keyed by header number as rpm keyed them; rpm's
#                        bdb_ro backend then has to list the same packages.
#
# The packages are built here from the spec below: fixture (epoch 2, with a
# subpackage fixture-libs) and tiny (noarch). Run from anywhere:
#   pkg/inventory/testdata/rpmdb/make.sh
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/fixture.spec" <<'SPEC'
Name: fixture
Epoch: 2
Version: 1.0.1
Release: 3.amzn2023
Summary: lambdaimg test package
License: MIT
BuildArch: x86_64
%description
A package for lambdaimg's tests.
%package libs
Summary: its libraries
%description libs
The libraries.
%install
mkdir -p %{buildroot}/usr/share/fixture
echo fixture >%{buildroot}/usr/share/fixture/README
echo libs >%{buildroot}/usr/share/fixture/libs
%files
/usr/share/fixture/README
%files libs
/usr/share/fixture/libs
SPEC
cat >"$work/tiny.spec" <<'SPEC'
Name: tiny
Version: 0.9
Release: 1
Summary: lambdaimg test package
License: MIT
BuildArch: noarch
%description
Nothing.
%files
SPEC

rpmbuild() {
	command rpmbuild --define "_topdir $work/top" --define '_build_id_links none' \
		--define 'source_date_epoch_from_changelog 0' -bb "$@" >/dev/null 2>&1
}
export SOURCE_DATE_EPOCH=1700000000
rpmbuild "$work/fixture.spec"
rpmbuild "$work/tiny.spec"

db="$work/db"
mkdir -p "$db"
rpm --dbpath "$db" --initdb
rpm --dbpath "$db" -i --justdb --nodeps --ignorearch --ignoreos "$work"/top/RPMS/*/*.rpm 2>/dev/null
rpm --dbpath "$db" -qa --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\n' | sort >"$work/want"

mkdir -p "$out/sqlite" "$out/bdb"
# One self-contained file: fold the write-ahead log into it.
sqlite3 "$db/rpmdb.sqlite" 'PRAGMA journal_mode=DELETE; VACUUM;' >/dev/null
cp "$db/rpmdb.sqlite" "$out/sqlite/rpmdb.sqlite"

# db_load -T: a key line then a value line per record, every byte \xx
# in lower case (db_load misreads upper-case hex digits).
# The key is the header number as rpm's BDB backend stored it: a 32-bit
# integer in host (here little-endian) order.
sqlite3 -separator ' ' "$db/rpmdb.sqlite" 'SELECT hnum, lower(hex(blob)) FROM Packages ORDER BY hnum' |
	while read -r hnum blob; do
		printf '%08x' "$hnum" | sed -E 's/(..)(..)(..)(..)/\\\4\\\3\\\2\\\1/'
		echo
		echo "$blob" | sed -E 's/(..)/\\\1/g'
	done >"$work/headers.txt"
rm -f "$out/bdb/Packages"
# A 512-byte page makes every header an overflow item, as rpm's headers
# (kilobytes) are in AL2's 4096-byte pages.
db5.3_load -T -t hash -c db_pagesize=512 -f "$work/headers.txt" "$out/bdb/Packages"

# Both databases must list what rpm listed.
for d in sqlite bdb; do
	backend=sqlite
	[ $d = bdb ] && backend=bdb_ro
	# (bdb_ro warns that rpm's index files are missing: only Packages is
	# needed to list packages.)
	rpm --dbpath "$out/$d" --define "_db_backend $backend" -qa 2>/dev/null \
		--qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\n' | sort >"$work/got-$d" 
	diff -u "$work/want" "$work/got-$d"
done
cat "$work/want"
