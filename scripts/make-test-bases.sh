#!/usr/bin/env bash
# make-test-bases.sh CACHEDIR [NAME...]
#
# Produces gzipped rootfs tarballs (one tar = one image layer, paths without a
# leading "./", numeric owners, fixed mtimes) that tests push to a registry:
#   CACHEDIR/debian-bookworm-amd64.tar.gz   debootstrap --variant=minbase bookworm
#   CACHEDIR/debian-bookworm-arm64.tar.gz   same, arm64 (second stage under qemu)
#   CACHEDIR/busybox-amd64.tar.gz           Debian busybox-static + applet links
#   CACHEDIR/busybox-arm64.tar.gz
# NAME limits the work to some of them, e.g. `busybox-amd64 debian-bookworm-amd64`.
# Existing tarballs are kept (delete one to rebuild it).
#
# Needs root, debootstrap, and (for arm64 Debian) qemu-user-static with the
# qemu-aarch64 binfmt handler enabled: run scripts/install-buildkit.sh first.
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian; plain http needs no
# CA), SOURCE_DATE_EPOCH (mtime of every entry, default 1700000000).
set -euo pipefail

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ALL=(busybox-amd64 busybox-arm64 debian-bookworm-amd64 debian-bookworm-arm64)

log() { echo "make-test-bases: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ $# -ge 1 ] || die "usage: $0 CACHEDIR [NAME...]"
CACHEDIR="$1"
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, device nodes, ownership)"
mkdir -p "$CACHEDIR"
CACHEDIR="$(cd "$CACHEDIR" && pwd)"

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

make_debian() {
	local arch="$1" out="$2"
	local root="$WORK/debian-$arch" start=$SECONDS
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
		"$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap-$arch.log" 2>&1 || {
		tail -n 30 "$WORK/debootstrap-$arch.log" >&2
		[ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
		die "debootstrap $arch failed"
	}
	# make it look like a container base image
	cat >"$root/etc/apt/sources.list" <<-EOF
		deb http://deb.debian.org/debian $SUITE main
		deb http://deb.debian.org/debian $SUITE-updates main
		deb http://deb.debian.org/debian-security $SUITE-security main
	EOF
	local r="${root:?}"
	rm -rf "${r:?}"/var/cache/apt/archives/*.deb "${r:?}"/var/cache/apt/*.bin \
		"${r:?}"/var/lib/apt/lists/* "${r:?}"/var/log/* "${r:?}"/tmp/* "${r:?}"/var/tmp/* \
		"${r:?}"/dev/* "${r:?}"/run/* "${r:?}"/proc/* "${r:?}"/sys/* "${r:?}"/debootstrap
	mkdir -p "$root/var/lib/apt/lists/partial"
	: >"$root/etc/resolv.conf"
	echo localhost >"$root/etc/hostname"
	pack "$root" "$out"
	log "debian-$SUITE-$arch: debootstrap+pack took $((SECONDS - start))s"
}

for t in "${TARGETS[@]}"; do
	out="$CACHEDIR/$t.tar.gz"
	if [ -s "$out" ]; then
		log "$t: exists ($out)"
		continue
	fi
	log "$t: building"
	case "$t" in
	busybox-amd64 | busybox-arm64) make_busybox "${t#busybox-}" "$out" ;;
	debian-bookworm-amd64 | debian-bookworm-arm64) make_debian "${t#debian-bookworm-}" "$out" ;;
	*) die "unknown target $t (known: ${ALL[*]})" ;;
	esac
	log "$t: $(du -h "$out" | cut -f1) $out"
done
