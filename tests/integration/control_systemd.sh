#!/bin/bash
# Running under systemd (dist/iapd.service, Type=notify; emul/sd_notify.c):
#   - the unit passes `systemd-analyze verify` and says Type=notify, ExecStart=iapd;
#   - with NOTIFY_SOCKET set, iapd does not fork: the very process started sends
#     "READY=1\nSTATUS=IAP mode" (its PID checked with SO_PASSCRED) once the board is up,
#     logs to syslog rather than stderr, and "STOPPING=1" on SIGTERM, exit 0;
#   - with --foreground too it logs to stderr; an abstract socket name (@...) works.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

[ -n "${IAPD_UNIT:-}" ] && [ -r "$IAPD_UNIT" ] || hard_error "IAPD_UNIT must name the built dist/iapd.service"
grep -qx 'Type=notify' "$IAPD_UNIT" || fail "the unit is not Type=notify"
grep -qE '^ExecStart=/.*/iapd$' "$IAPD_UNIT" || fail "unexpected ExecStart: $(grep ExecStart "$IAPD_UNIT")"
if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=.*|ExecStart=$IAPD|" "$IAPD_UNIT" > iapd.service
  out=$(timeout 60 systemd-analyze verify --man=no "$WORK/iapd.service" 2>&1)
  [ $? -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify: $out"
  say "ok: systemd-analyze verify: the unit is clean"
else
  say "note: no systemd-analyze here: the unit was not verified"
fi

# listen ADDRESS: a notify socket that writes "PID MESSAGE" lines (newlines as |) to notify.txt.
listen() {
  : > notify.txt
  rm -f listener.ready
  python3 - "$1" > listener.out 2>&1 <<'PY' &
import socket, struct, sys, time
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.settimeout(0.5)
open("listener.ready", "w").close()
end = time.monotonic() + 60
while time.monotonic() < end:
    try:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        continue
    pid = -1
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    with open("notify.txt", "a") as f:
        f.write("%d %s\n" % (pid, msg.decode().replace("\n", "|")))
PY
  LISTENER=$!
  # bound (an abstract address leaves no file to wait for): python says so once it is
  for _ in $(seq 1 100); do
    [ -e listener.ready ] && return 0
    sleep 0.1
  done
  fail "the notify listener did not start: $(cat listener.out)"
}

# wait_notify TEXT: until notify.txt has a line ending in TEXT.
wait_notify() {
  for i in $(seq 1 100); do
    grep -q -- " $1\$" notify.txt && return 0
    sleep 0.1
  done
  fail "no '$1' on the notify socket: $(cat notify.txt listener.out)"
}

listen "$WORK/notify"
log_mark
NOTIFY_SOCKET=$WORK/notify "$IAPD" "${BOARD_NET_ARGS[@]}" --flash "$WORK/flash.bin" >> iapd.log 2>&1 &
IAPD_PID=$!
wait_notify 'READY=1|STATUS=IAP mode'
sender=$(grep ' READY=1' notify.txt | cut -d' ' -f1)
[ "$sender" = "$IAPD_PID" ] || fail "READY=1 came from PID $sender, not from iapd ($IAPD_PID): it forked"
sleep 0.3
proc_alive "$IAPD_PID" || fail "iapd ($IAPD_PID) is gone after READY=1: it forked"
if [ "$BACKEND" = tap ]; then
  ip link show tap0 >/dev/null 2>&1 || fail "no tap0 while iapd runs under systemd"
fi
[ "$(timeout 5 curl -sS "http://$CONTROL_ADDR/api/status" | jq -r .board.mode)" = iap ] \
  || fail "the control server does not answer under systemd"
log_has "board: power on" && fail "under systemd without --foreground, iapd logged to stderr after set-up"
board_stop
wait_notify 'STOPPING=1'
[ "$(grep ' STOPPING=1' notify.txt | cut -d' ' -f1)" = "$sender" ] || fail "STOPPING=1 from another PID"
kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null
say "ok: NOTIFY_SOCKET: no fork, READY=1 from PID $sender once up, STOPPING=1 on SIGTERM, exit 0"

listen "@iapd-test-$$"
log_mark
NOTIFY_SOCKET="@iapd-test-$$" "$IAPD" --foreground "${BOARD_NET_ARGS[@]}" --flash "$WORK/flash.bin" \
  >> iapd.log 2>&1 &
IAPD_PID=$!
wait_notify 'READY=1|STATUS=IAP mode'
board_wait "board: power on" 5
board_stop
kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null
say "ok: abstract NOTIFY_SOCKET with --foreground: READY=1, log on stderr"
exit 0
