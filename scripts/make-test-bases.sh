#!/usr/bin/env bash
# make-test-bases.sh CACHEDIR [NAME...]
#
# Produces gzipped rootfs tarballs (one tar = one image layer, paths without a
# leading "./", numeric owners, fixed mtimes) that tests push to a registry in
# place of the official images the catalog pulls:
#   CACHEDIR/busybox-{amd64,arm64}.tar.gz        Debian busybox-static + applet links
#   CACHEDIR/debian-bookworm-{amd64,arm64}.tar.gz debootstrap --variant=minbase bookworm
#   CACHEDIR/debian-trixie-amd64.tar.gz          same, trixie (the Java 21 base)
#   CACHEDIR/python-bookworm-{amd64,arm64}.tar.gz  + python3 (3.11) and pip
#   CACHEDIR/python-trixie-amd64.tar.gz          + python3 (3.13) and pip
#   CACHEDIR/node-bookworm-amd64.tar.gz          + nodejs (18), npm and Node's headers
#   CACHEDIR/node-trixie-amd64.tar.gz            + nodejs (20), npm and Node's headers
#   CACHEDIR/maven-trixie-amd64.tar.gz           + maven and OpenJDK 21 (a JDK for builds)
# The python bases drop Debian's EXTERNALLY-MANAGED marker and link python and
# pip into /usr/local/bin, as the official python images behave; every base
# keeps out documentation, man pages and translations (as Debian's slim
# images do, also for packages installed later) and ships no apt lists.
# NAME limits the work to some of them, e.g. `busybox-amd64 python-trixie-amd64`.
# Existing tarballs are kept (delete one to rebuild it). Each one's build
# time and size are logged. Without NAME the bases are made in three lanes
# side by side (arm64 under qemu; bookworm amd64; trixie amd64), each its
# own run of this script, which takes the wall time from the sum of the
# bases to about the slowest lane; BASES_SERIAL=1 makes them one by one.
#
# Needs root, debootstrap, and (for arm64) qemu-user-static with the
# qemu-aarch64 binfmt handler enabled: run scripts/install-buildkit.sh first.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian; plain http needs no
# CA), SOURCE_DATE_EPOCH (mtime of every entry, default 1700000000).
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm # of fetch_deb (busybox)
EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ALL=(busybox-amd64 busybox-arm64 debian-bookworm-amd64 debian-bookworm-arm64 debian-trixie-amd64
	python-bookworm-amd64 python-bookworm-arm64 python-trixie-amd64
	node-bookworm-amd64 node-trixie-amd64 maven-trixie-amd64)

log() { echo "make-test-bases: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -ge 1 ] || die "usage: $0 CACHEDIR [NAME...]"
CACHEDIR="$1"
shift
TARGETS=("$@")
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, device nodes, ownership)"
mkdir -p "$CACHEDIR"
CACHEDIR="$(cd "$CACHEDIR" && pwd)"

# The lanes: every base of ALL once; the bases of one lane share a bootstrap.
LANES=("busybox-arm64 debian-bookworm-arm64 python-bookworm-arm64"
	"busybox-amd64 debian-bookworm-amd64 python-bookworm-amd64 node-bookworm-amd64"
	"debian-trixie-amd64 python-trixie-amd64 node-trixie-amd64 maven-trixie-amd64")
if [ ${#TARGETS[@]} -eq 0 ] && [ "${BASES_SERIAL:-0}" != 1 ]; then
	pids=()
	for lane in "${LANES[@]}"; do
		# shellcheck disable=SC2086 # a lane is a list of names
		"$0" "$CACHEDIR" $lane &
		pids+=("$!")
	done
	rc=0
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ "$rc" -eq 0 ] || die "a lane failed (see above)"
	exit 0
fi
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

WORK="$(mktemp -d "${TMPDIR:-/tmp}/make-test-bases.XXXXXX")"
cleanup() {
	# debootstrap may leave /proc etc. mounted in the target after a failure
	local m
	if [ -d "$WORK" ]; then
		awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null || true; done
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# pack DIR OUT: deterministic-ish gzipped tar of DIR's contents
pack() {
	local dir="$1" out="$2"
	(
		cd "$dir"
		find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
			tar --create --null --no-recursion --files-from=- \
				--numeric-owner --mtime="@$EPOCH" \
				--format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
	) | gzip -n -6 >"$out.tmp"
	mv -f "$out.tmp" "$out"
}

# fetch_deb ARCH PKG DESTDIR: downloads PKG for ARCH with a private apt config
# (own sources list and state dirs, so the host's apt setup is untouched).
fetch_deb() {
	local arch="$1" pkg="$2" dest="$3"
	local a="$WORK/apt-$arch"
	if [ ! -d "$a" ]; then
		mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/etc"
		echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" >"$a/etc/sources.list"
	fi
	local opts=(
		-o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache"
		-o "Dir::Etc::SourceList=$a/etc/sources.list" -o "Dir::Etc::SourceParts=$a/etc/none"
		-o "Dir::State::status=/dev/null" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
	)
	if ! compgen -G "$a/lists/*_Packages*" >/dev/null; then
		apt-get "${opts[@]}" -qq update
	fi
	mkdir -p "$dest"
	(cd "$dest" && apt-get "${opts[@]}" -qq download "$pkg:$arch")
	ls "$dest"/"${pkg}"_*_"$arch".deb >/dev/null
}

make_busybox() {
	local arch="$1" out="$2"
	local deb="$WORK/deb-$arch" root="$WORK/busybox-$arch"
	fetch_deb "$arch" busybox-static "$deb"
	mkdir -p "$WORK/x-$arch"
	dpkg-deb -x "$deb"/busybox-static_*_"$arch".deb "$WORK/x-$arch"
	local bb="$WORK/x-$arch/bin/busybox"
	[ -x "$bb" ] || die "busybox not found in busybox-static:$arch"

	# The applet list is the same for every architecture (same Debian build
	# config); read it from a natively runnable busybox.
	local lister="$bb"
	if [ "$arch" != "$(dpkg --print-architecture)" ]; then
		local native
		native="$(dpkg --print-architecture)"
		fetch_deb "$native" busybox-static "$WORK/deb-$native"
		mkdir -p "$WORK/x-$native"
		dpkg-deb -x "$WORK/deb-$native"/busybox-static_*_"$native".deb "$WORK/x-$native"
		lister="$WORK/x-$native/bin/busybox"
	fi

	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,proc,sys,dev,var/tmp,tmp,run}
	chmod 1777 "$root/tmp" "$root/var/tmp"
	chmod 0700 "$root/root"
	install -m 0755 "$bb" "$root/bin/busybox"
	local applet
	while read -r applet; do
		if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then continue; fi
		mkdir -p "$root/$(dirname "$applet")"
		ln -sf /bin/busybox "$root/$applet"
	done < <("$lister" --list-full)
	[ -L "$root/bin/sh" ] || ln -sf /bin/busybox "$root/bin/sh"
	cat >"$root/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$root/etc/group" <<-'EOF'
		root:x:0:
		nogroup:x:65534:
	EOF
	cat >"$root/etc/hosts" <<-'EOF'
		127.0.0.1	localhost
		::1	localhost ip6-localhost ip6-loopback
	EOF
	printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
	chown -R 0:0 "$root"
	pack "$root" "$out"
}

# bootstrap SUITE ARCH: a minbase tree in $WORK/root-SUITE-ARCH, made once per
# run and copied for each flavour.
bootstrap() {
	local suite="$1" arch="$2"
	local root="$WORK/root-$suite-$arch"
	[ -d "$root" ] && return 0
	command -v debootstrap >/dev/null || die "debootstrap missing (run scripts/install-buildkit.sh)"
	if [ "$arch" != "$(dpkg --print-architecture)" ] && [ "$arch" = arm64 ] &&
		! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
		die "arm64 needs qemu-aarch64 binfmt (run scripts/install-buildkit.sh)"
	fi
	# With the qemu binfmt handler (flag F) registered, debootstrap runs the
	# foreign second stage in the chroot by itself; no --foreign dance needed.
	local keyring=()
	[ -f "$KEYRING" ] && keyring=(--keyring="$KEYRING")
	debootstrap --arch="$arch" --variant=minbase "${keyring[@]}" \
		"$suite" "$root.tmp" "$MIRROR" >"$WORK/debootstrap-$suite-$arch.log" 2>&1 || {
		tail -n 30 "$WORK/debootstrap-$suite-$arch.log" >&2
		[ -f "$root.tmp/debootstrap/debootstrap.log" ] && tail -n 30 "$root.tmp/debootstrap/debootstrap.log" >&2
		die "debootstrap $suite $arch failed"
	}
	rm -rf "$root.tmp/debootstrap"
	# Slim, as Debian's container images are: no documentation, man pages or
	# translations, now or for packages installed later.
	cat >"$root.tmp/etc/dpkg/dpkg.cfg.d/lambdaimg-test-slim" <<-'EOF'
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/man/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/lintian/*
		path-exclude /usr/share/locale/*
	EOF
	cat >"$root.tmp/etc/apt/apt.conf.d/lambdaimg-test-slim" <<-'EOF'
		APT::Install-Recommends "false";
		APT::Install-Suggests "false";
	EOF
	# make it look like a container base image
	cat >"$root.tmp/etc/apt/sources.list" <<-EOF
		deb http://deb.debian.org/debian $suite main
		deb http://deb.debian.org/debian $suite-updates main
		deb http://deb.debian.org/debian-security $suite-security main
	EOF
	mv "$root.tmp" "$root"
}

# chroot_apt ROOT PKG...: installs packages in ROOT from its own sources.
chroot_apt() {
	local root="$1"
	shift
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	local rc=0
	{
		chroot "$root" apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends "$@"
	} >"$WORK/apt.log" 2>&1 || rc=$?
	umount "$root/dev"
	umount "$root/proc"
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$WORK/apt.log" >&2
		die "apt-get install $* failed in $root"
	fi
}

# make_base FLAVOUR SUITE ARCH OUT
make_base() {
	local flavour="$1" suite="$2" arch="$3" out="$4"
	bootstrap "$suite" "$arch"
	local root="$WORK/$flavour-$suite-$arch"
	rm -rf "$root"
	cp -a "$WORK/root-$suite-$arch" "$root"
	case "$flavour" in
	debian) ;;
	python)
		chroot_apt "$root" python3 python3-pip ca-certificates
		# The official python images let pip install anywhere (Debian's
		# marker, PEP 668, refuses installs outside a virtualenv) and have
		# python and pip on PATH.
		rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
		ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
		ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip"
		;;
	node)
		# libnode-dev: the official node images carry Node's headers, which
		# node-gyp builds native addons (aws-lambda-ric) against.
		chroot_apt "$root" nodejs npm libnode-dev ca-certificates
		;;
	maven)
		local jdk=openjdk-21-jdk-headless
		[ "$suite" = bookworm ] && jdk=openjdk-17-jdk-headless
		chroot_apt "$root" maven "$jdk" ca-certificates
		;;
	*) die "unknown flavour $flavour" ;;
	esac
	local r="${root:?}"
	rm -rf "${r:?}"/var/cache/apt/archives/*.deb "${r:?}"/var/cache/apt/*.bin \
		"${r:?}"/var/lib/apt/lists/* "${r:?}"/var/log/* "${r:?}"/tmp/* "${r:?}"/var/tmp/* \
		"${r:?}"/dev/* "${r:?}"/run/* "${r:?}"/proc/* "${r:?}"/sys/* \
		"${r:?}"/root/.cache "${r:?}"/root/.npm
	find "${r:?}/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
	find "${r:?}/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
	rm -rf "${r:?}"/usr/share/man/* "${r:?}"/usr/share/info/* "${r:?}"/usr/share/locale/*
	mkdir -p "$root/var/lib/apt/lists/partial"
	: >"$root/etc/resolv.conf"
	echo localhost >"$root/etc/hostname"
	pack "$root" "$out"
	rm -rf "$root"
}

for t in "${TARGETS[@]}"; do
	out="$CACHEDIR/$t.tar.gz"
	if [ -s "$out" ]; then
		log "$t: exists ($out)"
		continue
	fi
	log "$t: building"
	start=$SECONDS
	case "$t" in
	busybox-amd64 | busybox-arm64) make_busybox "${t#busybox-}" "$out" ;;
	debian-* | python-* | node-* | maven-*)
		IFS=- read -r flavour suite arch <<<"$t"
		case "$suite/$arch" in
		bookworm/amd64 | bookworm/arm64 | trixie/amd64 | trixie/arm64) ;;
		*) die "unknown target $t (known: ${ALL[*]})" ;;
		esac
		make_base "$flavour" "$suite" "$arch" "$out"
		;;
	*) die "unknown target $t (known: ${ALL[*]})" ;;
	esac
	log "$t: $(du -h "$out" | cut -f1) $out, made in $((SECONDS - start))s"
done
