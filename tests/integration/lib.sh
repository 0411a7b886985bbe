# Helpers for iapd's integration tests; sourced by each tests/integration/*.sh (bash).
#
# The board is on one of two networks, the test's BACKEND:
#   tap   a network namespace of the test's own: netns_enter re-runs the calling script under
#         `unshare -n`, so the TAP device, 192.168.0.0/24 and every packet stay inside it and
#         vanish with it. Nothing here touches the machine's own interfaces.
#   user  iapd --user-net (libslirp) in the machine's own namespace: no privilege needed. The
#         board's network lives inside the iapd process; clients reach it through forwards
#         on free ports of 127.0.0.1 (TFTP_PORT, HTTP_PORT), the control server is on a free
#         port too (CONTROL_ADDR), so tests can run side by side.
# A test that only needs to reach the board calls net_enter: the TAP where the machine can
# create a namespace, user-mode networking where it cannot (or when IAPD_TEST_BACKEND=user).
# A test that needs the TAP itself (its host side, dnsmasq on it, a veth) calls netns_enter
# after setting NEEDS_TAP to the reason, and skips where there is no namespace.
#
#   . "$TESTS_DIR/integration/lib.sh"
#   net_enter "$0" "$@"        # from here on: on BACKEND, $WORK is a fresh directory
#   board_start                # iapd on $WORK/flash.bin, ready for TFTP
#   tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put app.bin
#   curl -T app.bin "tftp://$TFTP_HOST:$TFTP_PORT/"; curl "$HTTP_URL/"; curl "http://$CONTROL_ADDR/"
#   board_stop                 # SIGTERM, exit status 0 asserted
#
# To the board, a client is $HOST_IP on both backends (slirp shows 127.0.0.1 as its own
# address), so log lines read the same.
#
# Exit status (automake): 0 pass, 1 fail, 77 skip (no namespace / no TUN for a test that
# needs the TAP), 99 hard error (the environment lacks a tool the test needs:
# scripts/bootstrap.sh deps installs them).
#
# Environment, set by `make check`: IAPD (the daemon), MKIMAGE (fixtures/mkimage), TESTS_DIR.
# IAPD_TEST_BACKEND=user runs the tests that can over --user-net even where a namespace could
# be made (tap: only in namespaces, the others skip). IAPD_TEST_KEEP=1 keeps the work
# directory (iapd.log, flash.bin, images) for a post-mortem.

BOARD_IP=192.168.0.10
HOST_IP=192.168.0.1
READY_LINE="tftp: server ready on $BOARD_IP port 69"
USER_FLASH_OFFSET=$((0x10000))   # 0x08010000 in the flash file
FLASH_SIZE=1048576

IAPD_PID=
LOG_MARK=0
BACKEND=
# Where clients reach the board; set by net_enter / netns_enter for the backend.
TFTP_HOST=$BOARD_IP
TFTP_PORT=69
HTTP_HOST=$BOARD_IP
HTTP_PORT=80
HTTP_URL=http://$BOARD_IP
CONTROL_ADDR=127.0.0.1:8069
BOARD_NET_ARGS=(--tap tap0)

say() { printf '%s: %s\n' "${TEST_NAME:-test}" "$*" >&2; }

hard_error() {
  printf '%s: ERROR: %s\n' "${TEST_NAME:-test}" "$*" >&2
  exit 99
}

skip() {
  printf 'SKIP: %s\n' "$*" >&2
  exit 77
}

# need_node_modules DIR: the browser tests drive puppeteer-core from DIR/node_modules, which
# scripts/bootstrap.sh installs (npm ci) in a git checkout. A release tarball carries no
# node_modules: there the test skips, saying so; in a checkout, its absence is an error.
need_node_modules() {
  [ -f "$1/node_modules/puppeteer-core/package.json" ] && return 0
  if [ -e "$TESTS_DIR/../.git" ]; then
    hard_error "puppeteer-core is not installed in $1; run scripts/bootstrap.sh deps (npm ci)"
  fi
  skip "puppeteer-core is not installed in $1: a release tarball carries no node_modules (run 'npm ci' in tests/browser to run the browser tests)"
}

# fail MSG: the test failed; shows what iapd said last.
fail() {
  printf '%s: FAIL: %s\n' "${TEST_NAME:-test}" "$*" >&2
  if [ -n "${WORK:-}" ] && [ -s "$WORK/iapd.log" ]; then
    printf -- '--- last lines of iapd.log ---\n' >&2
    tail -n 25 "$WORK/iapd.log" >&2
    printf -- '------------------------------\n' >&2
  fi
  exit 1
}

# The tools every test uses; a missing one is an error of the test machine, not a skip. The
# namespace tools only for the TAP backend: an unprivileged container may well lack them.
check_environment() {
  local t tools="curl tftp atftp busybox python3 timeout dd cmp sha256sum"
  if [ -z "${IAPD:-}" ] || [ ! -x "$IAPD" ]; then
    hard_error "IAPD must name the iapd binary (got '${IAPD:-}'): run the tests with make check"
  fi
  if [ -z "${MKIMAGE:-}" ] || [ ! -x "$MKIMAGE" ]; then
    hard_error "MKIMAGE must name fixtures/mkimage (got '${MKIMAGE:-}'): run the tests with make check"
  fi
  [ "${1:-tap}" = tap ] && tools="$tools ip unshare setpriv"
  for t in $tools; do
    command -v "$t" >/dev/null 2>&1 \
      || hard_error "'$t' is not installed; scripts/bootstrap.sh deps installs the test tools"
  done
  # The netascii and error-text checks rely on tftp-hpa's client, not BSD tftp or inetutils.
  tftp -V 2>&1 | grep -q 'tftp-hpa' \
    || hard_error "'tftp' is not tftp-hpa's client ($(tftp -V 2>&1 | head -n 1)); install tftp-hpa"
  busybox --list 2>/dev/null | grep -qx tftp \
    || hard_error "this busybox has no tftp applet"
}

# proc_alive PID: the process exists and is neither a zombie (Z) nor dead (X). Every other
# state counts, lower-case ones included: under ASan, LeakSanitizer ptrace-stops the exiting
# process ("t (tracing stop)") while it scans for leaks.
proc_alive() {
  local state
  [ -n "$1" ] || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) \
    || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

cleanup() {
  if proc_alive "$IAPD_PID"; then
    kill -TERM "$IAPD_PID" 2>/dev/null
    for _ in $(seq 1 30); do proc_alive "$IAPD_PID" || break; sleep 0.1; done
    proc_alive "$IAPD_PID" && kill -KILL "$IAPD_PID" 2>/dev/null
  fi
  if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
    if [ -n "${IAPD_TEST_KEEP:-}" ]; then say "kept $WORK (IAPD_TEST_KEEP is set)"
    else rm -rf "$WORK"
    fi
  fi
}

# why_no_namespace: prints why this machine cannot give the test a namespace with a TAP
# device (nothing when it can).
why_no_namespace() {
  local why
  if [ ! -c /dev/net/tun ]; then
    echo "cannot create a TAP device: /dev/net/tun is missing"
  elif ! why=$(unshare -n true 2>&1); then
    echo "cannot create a network namespace: ${why:-unshare -n failed}"
  fi
}

# in_test_namespace: true in the re-run netns_enter started (see there).
in_test_namespace() {
  local marker=${IAPD_TEST_NETNS:-}
  [ "${marker%%:*}" = "$$" ]
}

# work_dir: makes $WORK (removed on exit, iapd killed with it).
work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/iapd-test.XXXXXX") || hard_error "mktemp failed"
  trap cleanup EXIT
  trap 'exit 1' INT TERM HUP
  : > "$WORK/iapd.log"
}

# netns_enter "$0" "$@": re-runs the calling script in a new network namespace, once; inside,
# brings up lo and makes $WORK. Skips where the machine cannot create one, or when
# IAPD_TEST_BACKEND=user asks for user-mode networking, saying why the test needs the TAP
# ($NEEDS_TAP).
#
# The re-run knows it is inside from IAPD_TEST_NETNS="PID:NETNS": the same process (exec keeps
# the PID) in another namespace than the one it left. A stale or inherited value never
# matches, so a test cannot end up running in the machine's own namespace.
netns_enter() {
  local script=$1 why here marker=${IAPD_TEST_NETNS:-}
  shift
  TEST_NAME=$(basename "$script" .sh)
  here=$(readlink /proc/self/ns/net) || hard_error "cannot read /proc/self/ns/net"
  if ! in_test_namespace; then
    check_environment tap
    if [ "${IAPD_TEST_BACKEND:-}" = user ]; then
      skip "IAPD_TEST_BACKEND=user, and this test needs a TAP in a namespace: ${NEEDS_TAP:-a TAP with a host side}"
    fi
    why=$(why_no_namespace)
    [ -z "$why" ] || skip "$why; this test needs one: ${NEEDS_TAP:-a TAP with a host side}"
    export IAPD_TEST_NETNS="$$:$here"
    # A failed exec ends a non-interactive bash with status 126 or 127: a hard error too.
    exec unshare -n -- "${BASH:-/bin/bash}" "$script" "$@"
  fi
  [ "${marker#*:}" != "$here" ] \
    || hard_error "still in the namespace the test started in ($here): refusing to run"
  unset IAPD_TEST_NETNS
  BACKEND=tap
  ip link set lo up || hard_error "cannot bring up lo in the test namespace"
  work_dir
}

# free_ports N: N distinct ports, each free on 127.0.0.1 for both UDP and TCP just now, from
# below the kernel's ephemeral range (no outgoing socket takes one before iapd binds it) and
# at random (tests running side by side do not pick the same).
free_ports() {
  python3 - "$1" <<'PY' || hard_error "cannot find $1 free ports on 127.0.0.1"
import random, socket, sys
n = int(sys.argv[1])
low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
first, last = (10000, low - 1) if low > 11000 else (high + 1, 65535)
ports = []
for _ in range(2000):
    p = random.randint(first, last)
    if p in ports:
        continue
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", p))
    except OSError:
        continue
    ports.append(p)
    if len(ports) == n:
        print(*ports)
        sys.exit(0)
sys.exit(1)
PY
}

# user_net_enter: the board over --user-net in this very namespace, on free ports.
user_net_enter() {
  check_environment user
  BACKEND=user
  read -r TFTP_PORT HTTP_PORT CONTROL_PORT < <(free_ports 3)
  [ -n "${CONTROL_PORT:-}" ] || hard_error "free_ports gave no ports"
  TFTP_HOST=127.0.0.1
  HTTP_HOST=127.0.0.1
  HTTP_URL=http://127.0.0.1:$HTTP_PORT
  CONTROL_ADDR=127.0.0.1:$CONTROL_PORT
  BOARD_NET_ARGS=(--user-net --forward "udp:127.0.0.1:$TFTP_PORT:69"
                  --forward "tcp:127.0.0.1:$HTTP_PORT:80" --control "$CONTROL_ADDR")
  say "board over --user-net: TFTP on 127.0.0.1:$TFTP_PORT, HTTP on 127.0.0.1:$HTTP_PORT, control on $CONTROL_ADDR"
  work_dir
}

# net_enter "$0" "$@": for a test that only needs to reach the board: netns_enter where the
# machine can create a namespace with a TAP, user-mode networking where it cannot, or when
# IAPD_TEST_BACKEND=user.
net_enter() {
  local why
  TEST_NAME=$(basename "$1" .sh)
  if in_test_namespace; then
    netns_enter "$@"
    return
  fi
  if [ "${IAPD_TEST_BACKEND:-}" = user ]; then
    user_net_enter
    return
  fi
  check_environment user
  why=$(why_no_namespace)
  if [ -z "$why" ]; then
    netns_enter "$@"
    return
  fi
  [ "${IAPD_TEST_BACKEND:-}" = tap ] && skip "$why (IAPD_TEST_BACKEND=tap)"
  say "$why: the board runs over --user-net on 127.0.0.1"
  user_net_enter
}

# --- the board -------------------------------------------------------------------------

# log_mark: later board_wait / log_since_mark look only at what iapd logs from now on.
log_mark() {
  LOG_MARK=$(wc -l < "$WORK/iapd.log")
}

log_since_mark() {
  tail -n "+$((LOG_MARK + 1))" "$WORK/iapd.log"
}

# log_has TEXT: true when iapd logged a line containing TEXT since the mark.
log_has() {
  log_since_mark | grep -qF -- "$1"
}

# board_launch [iapd args...]: starts iapd in the background on $WORK/flash.bin, on the
# backend's network (BOARD_NET_ARGS: tap0, or --user-net with its forwards and control port).
board_launch() {
  proc_alive "$IAPD_PID" && fail "board_launch: iapd (pid $IAPD_PID) is still running"
  log_mark
  "$IAPD" --foreground "${BOARD_NET_ARGS[@]}" --flash "$WORK/flash.bin" "$@" \
    >> "$WORK/iapd.log" 2>&1 &
  IAPD_PID=$!
}

# board_wait PATTERN [TIMEOUT_S]: waits until iapd logs a line containing PATTERN since the
# mark; fails if it does not within TIMEOUT_S (default 10) or exits first.
board_wait() {
  local pattern=$1 timeout_s=${2:-10}
  for _ in $(seq 1 $((timeout_s * 10))); do
    log_has "$pattern" && return 0
    if ! proc_alive "$IAPD_PID"; then
      log_has "$pattern" && return 0
      fail "iapd exited before logging '$pattern'"
    fi
    sleep 0.1
  done
  fail "iapd did not log '$pattern' within $timeout_s s"
}

# board_start [iapd args...]: board_launch, then wait until TFTP is ready.
board_start() {
  board_launch "$@"
  board_wait "$READY_LINE"
}

# board_await_exit [TIMEOUT_S]: waits (bounded, default 10 s) for iapd to exit by itself and
# sets BOARD_RC to its exit status. Not in $(...): only this shell can wait for its child.
board_await_exit() {
  local timeout_s=${1:-10}
  for _ in $(seq 1 $((timeout_s * 10))); do
    proc_alive "$IAPD_PID" || break
    sleep 0.1
  done
  proc_alive "$IAPD_PID" && fail "iapd did not exit within $timeout_s s"
  wait "$IAPD_PID"
  BOARD_RC=$?
  IAPD_PID=
}

# board_stop [SIGNAL]: SIGTERM (or SIGNAL), and iapd must exit 0 within 5 s.
board_stop() {
  local sig=${1:-TERM}
  proc_alive "$IAPD_PID" || fail "board_stop: iapd is not running"
  kill "-$sig" "$IAPD_PID"
  board_await_exit 5
  [ "$BOARD_RC" = 0 ] || fail "iapd exited with status $BOARD_RC on SIG$sig, expected 0"
}

# board_reset [key]: SIGUSR2 (reset) or, with "key", SIGUSR1 (reset with Key held).
board_reset() {
  proc_alive "$IAPD_PID" || fail "board_reset: iapd is not running"
  log_mark
  if [ "${1:-}" = key ]; then kill -USR1 "$IAPD_PID"; else kill -USR2 "$IAPD_PID"; fi
}

# --- flash and images --------------------------------------------------------------------

# flash_erased FILE: writes a 1 MiB erased flash image (all 0xFF).
flash_erased() {
  head -c "$FLASH_SIZE" /dev/zero | tr '\0' '\377' > "$1"
}

# flash_region OFFSET LEN: the bytes of $WORK/flash.bin at file offset OFFSET (shell
# arithmetic: 0x10000 is address 0x08010000) on stdout.
flash_region() {
  local off=$(($1)) len=$(($2))
  dd if="$WORK/flash.bin" iflag=skip_bytes,count_bytes skip="$off" count="$len" bs=64K \
    status=none
}

# file_region FILE OFFSET LEN: like flash_region, from any file.
file_region() {
  dd if="$1" iflag=skip_bytes,count_bytes skip="$(($2))" count="$(($3))" bs=64K status=none
}

# hex_at OFFSET LEN: flash bytes as lowercase hex without spaces ("ffffffff").
hex_at() {
  flash_region "$1" "$2" | od -An -v -tx1 | tr -d ' \n'
}

# mkimg FILE mkimage-args...: writes a test image or fails.
mkimg() {
  local out=$1
  shift
  "$MKIMAGE" "$@" -o "$out" || hard_error "mkimage $* failed"
}

# crc32_of FILE: "0x%08x", zlib's CRC-32 (the one iapd logs).
crc32_of() {
  python3 -c 'import sys, zlib
print("0x%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$1"
}

# word_at FILE OFFSET: the little-endian 32-bit word at OFFSET, as 0x%08x.
word_at() {
  python3 -c 'import sys, struct
d = open(sys.argv[1], "rb").read()
o = int(sys.argv[2], 0)
print("0x%08x" % struct.unpack_from("<I", d, o))' "$1" "$2"
}

# sector_end OFFSET: the file offset just past the STM32F407 sector holding OFFSET
# (4 x 16 KiB, 1 x 64 KiB, 7 x 128 KiB).
sector_end() {
  local o=$(($1))
  if [ "$o" -lt $((0x10000)) ]; then echo $(((o / 0x4000 + 1) * 0x4000))
  elif [ "$o" -lt $((0x20000)) ]; then echo $((0x20000))
  else echo $(((o / 0x20000 + 1) * 0x20000))
  fi
}

# all_ff OFFSET LEN: true when that flash range is erased.
all_ff() {
  local len=$(($2))
  [ "$len" -eq 0 ] && return 0
  cmp -s <(flash_region "$1" "$len") <(head -c "$len" /dev/zero | tr '\0' '\377')
}

# The single slot's commit record: the last 128 bytes of the flash (src/image_record.h).
RECORD_SECTOR=$((0xE0000))
RECORD_OFFSET=$((FLASH_SIZE - 128))

# check_record IMAGE [LEN]: the record area holds the commit record of IMAGE's first LEN bytes
# (default: all of it) at 0x08010000, byte for byte but for the sequence number, with no
# progress words after it, and sector 11 is erased from past the image up to it.
check_record() {
  local img=$1 len=${2:-$(stat -c %s "$1")} from
  from=$((USER_FLASH_OFFSET + $(stat -c %s "$img")))
  [ "$from" -lt "$RECORD_SECTOR" ] && from=$RECORD_SECTOR
  all_ff "$from" $((RECORD_OFFSET - from)) \
    || fail "sector 11 holds more than the image and its commit record"
  python3 - "$img" "$len" "$WORK/flash.bin" "$RECORD_OFFSET" 2>"$WORK/record.err" <<'PY' || fail "commit record: $(cat "$WORK/record.err")"
import hashlib, struct, sys, zlib
img = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
rec = open(sys.argv[3], "rb").read()[int(sys.argv[4]):][:128]
magic, ver, size, addr, ln, tlen, seq = struct.unpack_from("<IHHIIII", rec)
want = struct.pack("<IHHIIII", 0x52504149, 1, 64, 0x08010000, n, len(img) - n, seq)
want += hashlib.sha256(img[:n]).digest()
want += struct.pack("<I", zlib.crc32(want)) + b"CMMT"
if rec[:64] != want or rec[64:] != b"\xff" * 64:
    sys.stderr.write("expected %s\nfound    %s\n" % (want.hex(), rec.hex()))
    sys.exit(1)
PY
}

# check_flashed IMAGE BEFORE: after an upload of IMAGE (log mark set before it), with BEFORE a
# copy of the flash file taken before the upload, asserts exactly what the writer promises:
#   - iapd logged "done, N bytes at 0x08010000, CRC-32 <zlib crc32 of IMAGE>";
#   - the user flash holds IMAGE byte for byte;
#   - the rest of the image's last sector is erased (0xFF): erased, not left over;
#   - the bootloader sectors and the sectors past the image are exactly as before.
check_flashed() {
  local img=$1 before=$2 n crc end_img end_sec erased_to
  n=$(stat -c %s "$img")
  crc=$(crc32_of "$img")
  board_wait "flash: TFTP: done, $n bytes at 0x08010000, CRC-32 $crc" 10
  log_has "tftp: transfer from $HOST_IP complete: $n bytes, CRC-32 $crc; reset to run it" \
    || fail "no 'transfer from $HOST_IP complete: $n bytes, CRC-32 $crc' line"
  cmp -s <(flash_region "$USER_FLASH_OFFSET" "$n") "$img" \
    || fail "flash at 0x08010000 differs from $(basename "$img") ($n bytes): $(cmp <(flash_region "$USER_FLASH_OFFSET" "$n") "$img" 2>&1 | head -n 1)"
  end_img=$((USER_FLASH_OFFSET + n))
  end_sec=$(sector_end $((end_img - 1)))
  # up to the end of its sector, or to the commit record when that sector is the record's
  erased_to=$end_sec
  [ "$erased_to" -gt "$RECORD_OFFSET" ] && erased_to=$RECORD_OFFSET
  all_ff "$end_img" $((erased_to - end_img)) \
    || fail "flash after the $n-byte image up to 0x$(printf %x $((0x08000000 + erased_to))) is not erased"
  cmp -s <(flash_region 0 "$USER_FLASH_OFFSET") <(file_region "$before" 0 "$USER_FLASH_OFFSET") \
    || fail "the bootloader sectors 0-3 changed during an upload"
  # Sector 11 holds the commit record in its last 128 bytes: erased first by every upload.
  if [ "$end_sec" -lt "$RECORD_SECTOR" ]; then
    cmp -s <(flash_region "$end_sec" $((RECORD_SECTOR - end_sec))) \
           <(file_region "$before" "$end_sec" $((RECORD_SECTOR - end_sec))) \
      || fail "sectors past the $n-byte image changed: the writer erased more than it needed"
  fi
  check_record "$img"
}
