#!/bin/bash
# iapd as a program: options, exit statuses (0 normal, 1 runtime error, 2 bad option), the
# flash file's size and lock, signals, the TAP device and its host address, and the message
# an unprivileged user gets.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
NEEDS_TAP='it checks what iapd does to the TAP (tap0 created, addressed, removed; an existing TAP left alone; CAP_NET_ADMIN refused as nobody)'
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

# run_iapd EXPECTED_STATUS ARGS...: runs iapd to completion (at most 10 s); its stdout in OUT,
# stderr in ERR; fails unless it exits with EXPECTED_STATUS.
run_iapd() {
  local want=$1 rc
  shift
  timeout 10 "$IAPD" "$@" > out.txt 2> err.txt
  rc=$?
  OUT=$(cat out.txt)
  ERR=$(cat err.txt)
  [ "$rc" -ne 124 ] || fail "iapd $* did not exit within 10 s"
  [ "$rc" -eq "$want" ] || fail "iapd $* exited $rc, expected $want; stderr: $ERR"
}

# contains TEXT NEEDLE WHAT
contains() {
  case "$1" in
    *"$2"*) ;;
    *) fail "$3: expected '$2' in: ${1:-(nothing)}" ;;
  esac
}

# --- options --------------------------------------------------------------------------------
run_iapd 0 --help
[ -n "$OUT" ] || fail "--help printed nothing on stdout"
[ -z "$ERR" ] || fail "--help wrote to stderr: $ERR"
for opt in --foreground --tap --flash --user-flash --host-addr --key --exit-on-jump; do
  contains "$OUT" "$opt" "--help"
done
run_iapd 0 --version
contains "$OUT" "iapd " "--version"
say "ok: --help and --version exit 0"

run_iapd 2 --no-such-option
[ -z "$OUT" ] || fail "a bad option wrote to stdout: $OUT"
contains "$ERR" "--no-such-option" "unknown option"
say "ok: unknown option: exit 2 ($ERR)"

run_iapd 2 --foreground --tap tap0 --flash "$WORK/flash.bin" --user-flash 0x08010100
contains "$ERR" "0x08010100" "--user-flash 0x08010100"
contains "$ERR" "0x08010000" "--user-flash 0x08010100 (the start of its sector)"
[ ! -e flash.bin ] || fail "a bad option still created the flash file"
ip link show tap0 >/dev/null 2>&1 && fail "a bad option still created tap0"
say "ok: --user-flash 0x08010100: exit 2 ($ERR)"

# --- the flash file -------------------------------------------------------------------------
head -c 1000 /dev/zero > short.bin
run_iapd 1 --foreground --tap tap0 --flash "$WORK/short.bin"
contains "$ERR" "1048576" "flash file of 1000 bytes"
[ "$(stat -c %s short.bin)" -eq 1000 ] || fail "iapd changed the size of a wrong-size flash file"
cmp -s short.bin <(head -c 1000 /dev/zero) || fail "iapd wrote into a wrong-size flash file"
ip link show tap0 >/dev/null 2>&1 && fail "a wrong-size flash file still left tap0 behind"
say "ok: 1000-byte flash file: exit 1, file untouched ($ERR)"

# A second iapd on the same flash file (and another TAP) is refused; the first one goes on.
flash_erased flash.bin
board_start
run_iapd 1 --foreground --tap tap1 --flash "$WORK/flash.bin"
contains "$ERR" "in use" "second iapd on the same flash file"
proc_alive "$IAPD_PID" || fail "the first iapd died when a second one tried its flash file"
ip link show tap1 >/dev/null 2>&1 && fail "the refused second iapd left tap1 behind"
say "ok: second iapd on the same flash file: exit 1 ($ERR)"

# A second iapd on the same TAP (and another flash file) is refused too.
run_iapd 1 --foreground --tap tap0 --flash "$WORK/other.bin"
contains "$ERR" "tap0" "second iapd on the same TAP"
contains "$ERR" "in use" "second iapd on the same TAP"
proc_alive "$IAPD_PID" || fail "the first iapd died when a second one tried its TAP"
say "ok: second iapd on the same TAP: exit 1 ($ERR)"

# --- the TAP device ---------------------------------------------------------------------------
# Created by iapd, up, with the host side at 192.168.0.1/24.
addrs=$(ip -4 -o addr show dev tap0 | awk '{print $4}')
[ "$addrs" = "192.168.0.1/24" ] || fail "tap0: expected host address 192.168.0.1/24, found '${addrs}'"
ip link show tap0 | grep -q '[<,]UP[,>]' || fail "tap0 is not up: $(ip link show tap0)"
log_has "net: host side of tap0: 192.168.0.1/24" || fail "no 'host side of tap0' line"
log_has "on tap0 (created)" || fail "iapd does not say it created tap0"
say "ok: tap0 created, up, 192.168.0.1/24"

# SIGTERM: exit 0, and the TAP goes with iapd.
board_stop TERM
log_has "board: flash synced, bye" || fail "SIGTERM: no 'flash synced' line"
ip link show tap0 >/dev/null 2>&1 && fail "tap0 still exists after iapd exited"
say "ok: SIGTERM: exit 0, tap0 removed"

# --host-addr none: the TAP is up with no IPv4 address; SIGINT: exit 0.
board_start --host-addr none
ip link show tap0 >/dev/null 2>&1 || fail "--host-addr none: no tap0"
addrs=$(ip -4 -o addr show dev tap0)
[ -z "$addrs" ] || fail "--host-addr none: tap0 has an IPv4 address: $addrs"
ip link show tap0 | grep -q '[<,]UP[,>]' || fail "--host-addr none: tap0 is not up"
board_stop INT
say "ok: --host-addr none: tap0 without IPv4 address; SIGINT: exit 0"

# A TAP that exists already (made by the administrator) is used as it is: no address added.
ip tuntap add dev tap9 mode tap || hard_error "cannot create tap9 in the test namespace"
ip link set tap9 up
log_mark
"$IAPD" --foreground --tap tap9 --flash "$WORK/flash.bin" >> "$WORK/iapd.log" 2>&1 &
IAPD_PID=$!
board_wait "$READY_LINE"
log_has "on tap9 (existing)" || fail "iapd does not say tap9 existed"
addrs=$(ip -4 -o addr show dev tap9)
[ -z "$addrs" ] || fail "iapd added an address to an existing TAP: $addrs"
board_stop
ip link show tap9 >/dev/null 2>&1 || fail "iapd removed a TAP it did not create"
ip link del tap9
say "ok: existing tap9: used as it is, left in place"

# --- unprivileged -------------------------------------------------------------------------------
# As user nobody, with a flash file nobody may write and a copy of the binary nobody may run,
# the only thing missing is CAP_NET_ADMIN: iapd must say so and exit 1.
mkdir nobody
cp "$IAPD" nobody/iapd
chmod 755 nobody/iapd
chown nobody:nogroup nobody
chmod 711 "$WORK"
cp flash.bin nobody/flash.bin
chown nobody:nogroup nobody/flash.bin
out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
      "$WORK/nobody/iapd" --foreground --tap tap0 --flash "$WORK/nobody/flash.bin" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "iapd as nobody exited $rc, expected 1: $out"
contains "$out" "CAP_NET_ADMIN" "iapd as nobody"
ip link show tap0 >/dev/null 2>&1 && fail "iapd as nobody created tap0"
cmp -s nobody/flash.bin flash.bin || fail "iapd as nobody changed its flash file"
say "ok: as nobody: exit 1 ($out)"
exit 0
