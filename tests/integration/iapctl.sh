#!/bin/bash
# iapctl against a real board, in the test's network namespace:
#   - status: the five lines, exactly, in IAP mode and with the application running; the
#     upload in progress while a slow TFTP client sends; --json is the server's own JSON;
#   - reset, then wait jump: the board log shows the jump to the uploaded image;
#     reset --key, then wait iap: IAP mode again; wait jump --timeout 1 there: exit 1 after
#     about a second, saying what the board does;
#   - dump: 1048576 bytes, equal to the flash file;
#   - two boards: --control picks one, and only that one resets;
#   - an error reply and a reply that is not JSON (a stand-in server), nothing listening,
#     and command-line mistakes (exit 2), each with its exact message.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
[ -n "${IAPCTL:-}" ] && [ -x "$IAPCTL" ] \
  || hard_error "IAPCTL must name the iapctl binary (got '${IAPCTL:-}'): run the tests with make check"
command -v jq >/dev/null || hard_error "jq is not installed (scripts/bootstrap.sh deps installs it)"

# ctl [iapctl args...]: runs iapctl (bounded), sets RC, OUT (stdout) and ERR (stderr).
ctl() {
  timeout 30 "$IAPCTL" "$@" > ctl.out 2> ctl.err
  RC=$?
  OUT=$(cat ctl.out)
  ERR=$(cat ctl.err)
}

# expect RC STDOUT STDERR: the last ctl's exit status and both outputs, exactly.
expect() {
  [ "$RC" = "$1" ] || fail "iapctl exited $RC, expected $1 (stdout: '$OUT', stderr: '$ERR')"
  [ "$OUT" = "$2" ] || fail "iapctl stdout: '$OUT', expected '$2'"
  [ "$ERR" = "$3" ] || fail "iapctl stderr: '$ERR', expected '$3'"
}

IAP_STATUS="mode:      iap
reason:    no application
detail:    no application at 0x08010000 (erased)
address:   192.168.0.10 netmask 255.255.255.0 gateway 192.168.0.1 (static)
transfer:  none"

board_start
board_wait "control: board page and JSON API on http://127.0.0.1:8069/"

# --- status ---------------------------------------------------------------------------------
ctl status
expect 0 "$IAP_STATUS" ""
ctl status --json
[ "$RC" = 0 ] || fail "status --json exited $RC: $ERR"
curl_status=$(timeout 10 curl -sS http://127.0.0.1:8069/api/status) || fail "curl /api/status failed"
drop='del(.board.uptime_ms, .network.rx_frames, .network.tx_frames)'
[ "$(jq -c "$drop" <<<"$OUT")" = "$(jq -c "$drop" <<<"$curl_status")" ] \
  || fail "status --json is not the server's status: $OUT"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] || fail "status --json is not one line: $OUT"
say "ok: status: five lines in IAP mode; --json is GET /api/status"

# --- the upload in progress, as status shows it --------------------------------------------
mkimg app.bin --link 0x08010000 --size 100000 --seed 51
cp flash.bin before.bin
log_mark
python3 "$TESTS_DIR/integration/control_slow_tftp.py" "$BOARD_IP" app.bin --delay 0.005 --tsize \
  > slow.out 2>&1 &
slow_pid=$!
seen=
for _ in $(seq 1 100); do
  ctl status
  seen=$(sed -n 's/^transfer:  \(TFTP .*\)/\1/p' <<<"$OUT")
  [ -n "$seen" ] && break
  sleep 0.05
done
[ -n "$seen" ] || fail "iapctl status never showed the upload in progress"
grep -Eqx 'TFTP from 192\.168\.0\.1, [0-9]+ of 100000 bytes \([0-9]{1,3}%\), [0-9]+ bytes/s' <<<"$seen" \
  || fail "transfer line: '$seen'"
wait "$slow_pid" || fail "the slow TFTP upload failed: $(cat slow.out)"
check_flashed app.bin before.bin
ctl status
expect 0 "$IAP_STATUS" ""
say "ok: status during the upload: transfer:  $seen"

# --- reset, wait jump ------------------------------------------------------------------------
MSP=$(word_at app.bin 0)
PC=$(word_at app.bin 4)
log_mark
ctl reset
expect 0 "reset: the board runs the application" ""
ctl wait jump
expect 0 "the board runs the application: MSP=$MSP PC=$PC" ""
board_wait "control: reset (POST /api/reset)" 5
log_has "boot: jump to application: MSP=$MSP PC=$PC" || fail "the board log shows no jump"
ctl status
expect 0 "mode:      application, MSP=$MSP PC=$PC
reason:    valid application
detail:    image #1, 100000 bytes at 0x08010000, SHA-256 verified
address:   192.168.0.10 netmask 255.255.255.0 gateway 192.168.0.1 (static), interface down
transfer:  none" ""
ctl wait iap --timeout 0.3
expect 1 "" "iapctl: the board did not enter IAP mode within 0.3 s: it runs the application: MSP=$MSP PC=$PC"
say "ok: reset; wait jump; the board log: jump to application: MSP=$MSP PC=$PC"

# --- reset --key, wait iap; wait jump times out ------------------------------------------------
log_mark
ctl reset --key
expect 0 "reset with the Key held: the board is in IAP mode" ""
ctl wait iap
expect 0 "the board is in IAP mode: Key button held at reset" ""
board_wait "control: reset with Key held (POST /api/reset)" 5
board_wait "boot: IAP mode (Key button held)" 5
start_ns=$(date +%s%N)
ctl wait jump --timeout 1
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
expect 1 "" "iapctl: the board did not jump to the application within 1 s: it is in IAP mode: Key button held at reset"
[ "$elapsed_ms" -ge 1000 ] && [ "$elapsed_ms" -lt 3000 ] \
  || fail "wait jump --timeout 1 gave up after $elapsed_ms ms"
say "ok: reset --key; wait iap; wait jump --timeout 1: exit 1 after $elapsed_ms ms"

# --- dump -----------------------------------------------------------------------------------
ctl dump dump.bin
expect 0 "1048576 bytes of flash (0x08000000 to 0x080fffff) written to dump.bin" ""
[ "$(stat -c %s dump.bin)" = "$FLASH_SIZE" ] || fail "dump.bin is $(stat -c %s dump.bin) bytes"
cmp -s dump.bin flash.bin || fail "dump.bin differs from the flash file: $(cmp dump.bin flash.bin)"
ctl dump no-such-dir/dump.bin
expect 1 "" "iapctl: cannot create no-such-dir/dump.bin: No such file or directory"
say "ok: dump: the flash file byte for byte"

# --- two boards: --control picks one ----------------------------------------------------------
"$IAPD" --foreground --tap tap1 --flash "$WORK/other.bin" --key --ip 192.168.1.10 \
  --gateway 192.168.1.1 --host-addr 192.168.1.1/24 --control 127.0.0.1:8070 \
  > other.log 2>&1 &
other_pid=$!
for _ in $(seq 1 100); do
  grep -qF "tftp: server ready on 192.168.1.10 port 69" other.log && break
  proc_alive "$other_pid" || fail "the second board exited: $(cat other.log)"
  sleep 0.1
done
grep -qF "control: board page and JSON API on http://127.0.0.1:8070/" other.log \
  || fail "the second board has no control server on 127.0.0.1:8070: $(cat other.log)"
log_mark
other_mark=$(wc -l < other.log)
ctl --control 127.0.0.1:8070 reset
expect 0 "reset: the board is in IAP mode" ""
ctl status --control 127.0.0.1:8070
expect 0 "mode:      iap
reason:    no application
detail:    no application at 0x08010000 (erased)
address:   192.168.1.10 netmask 255.255.255.0 gateway 192.168.1.1 (static)
transfer:  none" ""
tail -n "+$((other_mark + 1))" other.log | grep -qF "control: reset (POST /api/reset)" \
  || fail "the second board did not reset: $(cat other.log)"
sleep 0.3
log_has "control: reset" && fail "--control 127.0.0.1:8070 reset the first board too"
kill -TERM "$other_pid"
wait "$other_pid" || fail "the second board exited with status $? on SIGTERM"
say "ok: two boards: --control 127.0.0.1:8070 reset only the second"

# --- replies iapctl cannot use: a stand-in server on 127.0.0.1:8071 ---------------------------
# serve STATUS BODY: answers the next two connections with "HTTP/1.1 STATUS" and BODY (with
# its Content-Length), then exits.
serve() {
  python3 - "$1" "$2" > stand-in.out 2>&1 <<'PY' &
import socket, sys
status, body = sys.argv[1].encode(), sys.argv[2].encode()
reply = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    status, len(body), body)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8071))
s.listen(2)
print("listening", flush=True)
s.settimeout(20)
for _ in range(2):
    c, _ = s.accept()
    c.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(reply)
    c.close()
PY
  serve_pid=$!
  for _ in $(seq 1 50); do grep -q listening stand-in.out && return 0; sleep 0.1; done
  fail "the stand-in server did not start: $(cat stand-in.out)"
}
serve '403 Forbidden' '{"error":"Host is not allowed"}'
ctl --control 127.0.0.1:8071 status
expect 1 "" "iapctl: GET /api/status: 403 Forbidden: Host is not allowed"
ctl --control 127.0.0.1:8071 reset
expect 1 "" "iapctl: POST /api/reset: 403 Forbidden: Host is not allowed"
wait "$serve_pid"
serve '200 OK' '<html></html>'
ctl --control 127.0.0.1:8071 status
expect 1 "" "iapctl: the reply of 127.0.0.1:8071 to GET /api/status is not JSON ('[' or '{' expected near '<', at byte 1): is this iapd's control server?"
ctl --control 127.0.0.1:8071 dump short.bin
expect 1 "" "iapctl: the flash of 127.0.0.1:8071 is 13 bytes, not the 1048576 of an STM32F407: is iapd older or newer than iapctl?"
[ -e short.bin ] && fail "a short dump left short.bin behind"
wait "$serve_pid"
say "ok: an error reply and a reply that is not JSON: exit 1, with what the server said"

# --- nothing listening; command-line mistakes -------------------------------------------------
board_stop
ctl status
expect 1 "" "iapctl: cannot connect to 127.0.0.1:8069: Connection refused: is iapd running, with --control?"
ctl wait jump --timeout 1
expect 1 "" "iapctl: cannot connect to 127.0.0.1:8069: Connection refused: is iapd running, with --control?"
ctl wait
expect 2 "" "iapctl: wait takes one argument: wait jump|iap (see iapctl --help)"
ctl wait app
expect 2 "" "iapctl: wait 'app': wait for jump (the application runs) or iap (IAP mode) (see iapctl --help)"
ctl status --key
expect 2 "" "iapctl: --key does not apply to status (see iapctl --help)"
ctl reboot
expect 2 "" "iapctl: unknown command 'reboot': status, reset, wait or dump (see iapctl --help)"
ctl
expect 2 "" "iapctl: no command: status, reset, wait or dump (see iapctl --help)"
ctl wait jump --timeout 0
expect 2 "" "iapctl: --timeout '0' is not a number of seconds from 0.001 to 86400 (see iapctl --help)"
ctl --control 8069 status
expect 2 "" "iapctl: --control 8069 has no port (expected ADDR:PORT as in 127.0.0.1:8069 or [::1]:8069, or none) (see iapctl --help)"
timeout 10 "$IAPCTL" --help > /dev/full 2> ctl.err
RC=$?
[ "$RC" = 1 ] && [ "$(cat ctl.err)" = "iapctl: cannot write the standard output: No space left on device" ] \
  || fail "iapctl --help > /dev/full: exit $RC, '$(cat ctl.err)'"
ctl --help
[ "$RC" = 0 ] && [ -z "$ERR" ] && grep -q '^Usage: iapctl ' ctl.out || fail "iapctl --help: $RC $ERR"
jansson_version=$(pkg-config --modversion jansson) || hard_error "pkg-config knows no jansson"
ctl --version
expect 0 "iapctl $(sed -n 's/^iapd //p' <("$IAPD" --version))
jansson $jansson_version" ""
say "ok: connection refused, usage errors (exit 2), --help, --version, a full stdout"
exit 0
