#!/bin/sh
# Set up a Debian/Ubuntu machine for iapd, build it, then boot the emulated board or run the
# tests. Idempotent: every step checks first and does only what is missing.
#
#   scripts/bootstrap.sh boot    set up, build, boot the board in the network namespace "iapd"
#   scripts/bootstrap.sh check   set up, build, run `make check`
#   scripts/bootstrap.sh deps    only install packages and fetch lwIP, mbed TLS and BearSSL
#   scripts/bootstrap.sh crypto  only fetch mbed TLS and BearSSL (the firmware's "+verify" rows)
#
# Environment: BUILD_DIR (default: build), CONFIGURE_FLAGS (extra ./configure arguments),
# LWIP_DIR (an lwIP 2.1 tree to use instead of fetching Debian's source package).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-build}
case $build_dir in /*) ;; *) build_dir=$top/$build_dir ;; esac
lwip_dir=${LWIP_DIR:-$top/third_party/lwip}
netns=iapd

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# Packages a build and the tests need. The test clients are the ones users run: curl,
# tftp-hpa, atftp and busybox. The cross compiler and newlib build the firmware; fw-pack
# packs it with liblzma (liblzma-dev); QEMU boots it (make check-firmware). libslirp
# (--user-net) comes with glib's headers: Debian's slirp.pc requires glib-2.0's .pc file.
# iapd hashes images with Debian's mbed TLS (libmbedtls-dev) and verifies their signatures
# with Debian's BearSSL (libbearssl-dev); the firmware builds the same libraries from source
# (fetch_crypto). make bench runs the peers (tftpd-hpa, nginx-light: nginx with the dav
# module) and callgrind (valgrind); it starts them itself, in its own namespaces: installing
# tftpd-hpa and nginx-light must not leave them running as services (install_packages).
# scripts/fuzz-ci builds the libFuzzer targets with clang.
packages="autoconf automake libtool pkg-config make gcc check zlib1g-dev libpcap-dev
  libmicrohttpd-dev libjansson-dev libslirp-dev libglib2.0-dev libmbedtls-dev libbearssl-dev
  dpkg-dev xz-utils liblzma-dev iproute2 curl tftp-hpa atftp busybox python3 ca-certificates
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  dnsmasq-base tcpdump ethtool jq chromium nodejs firefox-esr
  tftpd-hpa nginx-light valgrind clang libclang-rt-dev"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "'$*' needs root: run this script as root"
  fi
}

missing_packages() {
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$p"
  done
}

# apt-get source needs a deb-src entry; Debian images ship only deb lines.
deb_src_file=/etc/apt/sources.list.d/iapd-deb-src.sources
have_deb_src() {
  grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ || grep -qs '^deb-src' /etc/apt/sources.list
}

add_deb_src() {
  have_deb_src && return 0
  # shellcheck disable=SC1091
  . /etc/os-release
  suite=${VERSION_CODENAME:-bookworm}
  say "adding a deb-src entry for $suite ($deb_src_file)"
  as_root sh -c "cat > $deb_src_file" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt_updated=
}

apt_updated=
apt_update_once() {
  [ -n "$apt_updated" ] && return 0
  say "apt-get update"
  as_root apt-get update -q >/dev/null
  apt_updated=yes
}

# The bench's peers are packaged as services; make bench runs them itself, in its own
# namespaces. While they install, a policy-rc.d (exit 101: "not allowed") keeps invoke-rc.d
# and deb-systemd-invoke from starting them, and systemd is told not to start them at boot.
peer_services="nginx tftpd-hpa"
install_packages() {
  need=$(missing_packages)
  [ -z "$need" ] && return 0
  apt_update_once
  say "installing: $need"
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    made_policy=yes
  fi
  rc=0
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >/dev/null || rc=$?
  [ -z "$made_policy" ] || as_root rm -f "$policy"
  [ "$rc" -eq 0 ] || die "apt-get install failed"
  if [ -d /run/systemd/system ]; then
    for s in $peer_services; do
      as_root systemctl disable --now "$s" >/dev/null 2>&1 || true
    done
  fi
}

fetch_lwip() {
  if [ -f "$lwip_dir/src/core/init.c" ]; then return 0; fi
  [ -n "${LWIP_DIR:-}" ] && die "LWIP_DIR=$LWIP_DIR holds no lwIP tree (no src/core/init.c)"
  add_deb_src
  apt_update_once
  tmp=$(mktemp -d)
  say "fetching Debian's lwip source package into $lwip_dir"
  (cd "$tmp" && apt-get source -q --download-only lwip >/dev/null) \
    || die "apt-get source lwip failed: is a deb-src entry configured?"
  dsc=$(ls "$tmp"/lwip_2.1.*.dsc 2>/dev/null | head -n 1)
  [ -n "$dsc" ] || die "Debian's lwip source package is not version 2.1 ($(ls "$tmp"))"
  (cd "$tmp" && dpkg-source -q -x "$dsc" lwip >/dev/null)
  mkdir -p "$(dirname "$lwip_dir")"
  rm -rf "$lwip_dir"
  mv "$tmp/lwip" "$lwip_dir"
  rm -rf "$tmp"
}

# The crypto the firmware's verified boot builds from (the same mbed TLS 2.28 and BearSSL 0.6
# as iapd's libmbedtls-dev and libbearssl-dev, firmware/firmware.mk): Debian's source
# packages, in third_party/. A failure is a warning here; make firmware then stops at the
# first file of the missing library and says to run scripts/bootstrap.sh crypto.
fetch_source() {   # fetch_source PACKAGE DIR FILE-THAT-MUST-BE-THERE
  if [ -f "$2/$3" ]; then return 0; fi
  add_deb_src
  apt_update_once
  tmp=$(mktemp -d)
  say "fetching Debian's $1 source package into $2"
  if ! (cd "$tmp" && apt-get source -q --download-only "$1" >/dev/null 2>&1); then
    say "warning: apt-get source $1 failed: make firmware needs it"
    rm -rf "$tmp"
    return 0
  fi
  dsc=$(ls "$tmp"/"$1"_*.dsc | head -n 1)
  if ! (cd "$tmp" && dpkg-source -q -x "$dsc" "$1" >/dev/null 2>&1); then
    say "warning: dpkg-source -x $dsc failed: make firmware needs it"
    rm -rf "$tmp"
    return 0
  fi
  mkdir -p "$(dirname "$2")"
  rm -rf "$2"
  mv "$tmp/$1" "$2"
  rm -rf "$tmp"
}

fetch_crypto() {
  fetch_source mbedtls "$top/third_party/mbedtls" library/sha256.c
  fetch_source bearssl "$top/third_party/bearssl" src/ec/ec_prime_i15.c
}

# The browser tests drive Debian's Chromium and Firefox ESR with puppeteer-core, pinned by
# tests/browser/package-lock.json (node_modules is git-ignored). npm comes with nodejs from
# some sources and as its own package on Debian.
install_node_modules() {
  dir=$top/tests/browser
  [ -f "$dir/package-lock.json" ] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    apt_update_once
    say "installing: npm"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null
  fi
  [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  say "npm ci in tests/browser"
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed in $dir"
}

build() {
  cd "$top"
  if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
    say "autoreconf"
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
  fi
  mkdir -p "$build_dir"
  cd "$build_dir"
  flags="--with-lwip=$lwip_dir ${CONFIGURE_FLAGS:-}"
  if [ ! -f Makefile ] || [ "$(cat .bootstrap-flags 2>/dev/null)" != "$flags" ]; then
    say "configure $flags"
    # shellcheck disable=SC2086
    "$top/configure" $flags >configure.out || { cat configure.out; die "configure failed"; }
    echo "$flags" > .bootstrap-flags
  fi
  say "make"
  make -s -j"$(nproc)"
}

boot() {
  # The board gets its own network namespace so that its TAP and 192.168.0.0/24 never touch
  # the machine's own interfaces. Talk to it with `ip netns exec iapd <client>`.
  ip netns list 2>/dev/null | grep -qw "$netns" || as_root ip netns add "$netns"
  as_root ip netns exec "$netns" ip link set lo up
  say "board in network namespace '$netns'; in another terminal try:"
  say "  sudo ip netns exec $netns tftp -m binary 192.168.0.10 -c put $build_dir/fixtures/app-0x08010000.bin app.bin"
  say "  sudo ip netns exec $netns $build_dir/iapctl reset    # without Key: the new app runs"
  cd "$build_dir"
  if [ "$(id -u)" -eq 0 ]; then
    exec ip netns exec "$netns" ./iapd --foreground --flash "$build_dir/iapd-flash.bin" "$@"
  fi
  exec sudo ip netns exec "$netns" ./iapd --foreground --flash "$build_dir/iapd-flash.bin" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  deps)  install_packages; install_node_modules; fetch_lwip; fetch_crypto ;;
  crypto) fetch_crypto ;;
  build) install_packages; fetch_lwip; build ;;
  boot)  install_packages; fetch_lwip; build; make -s -C "$build_dir" fixtures >/dev/null; boot "$@" ;;
  check) install_packages; install_node_modules; fetch_lwip; fetch_crypto; build; cd "$build_dir"; make -s check "$@" ;;
  *) echo "usage: $0 boot|check|build|deps|crypto" >&2; exit 2 ;;
esac
