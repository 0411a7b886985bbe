#!/bin/bash
# The control server's JSON API (emul/control.c), with curl on 127.0.0.1 inside the test's
# namespace, or on a free port of 127.0.0.1 over --user-net where there is none:
#   - GET /api/status: exactly the documented members, with the board's real values;
#   - GET /api/events: the LCD lines and progress of an upload, as server-sent events;
#   - GET /api/flash: the 1 MiB flash, byte for byte the flash file;
#   - POST /api/reset: {"key": false} makes the board jump, {"key": true} back to IAP mode;
#   - every bad request a 4xx with a message; bounded event streams (503); a client that
#     never reads does not hold up the board; --control ADDR:PORT and none; a port in use.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v jq >/dev/null || hard_error "jq is not installed (scripts/bootstrap.sh deps installs it)"

API=http://$CONTROL_ADDR
# A second address and port for --control, and the network of a second board.
if [ "$BACKEND" = user ]; then
  read -r OTHER_PORT SPARE_PORT < <(free_ports 2)
  SECOND_NET=(--user-net --forward "udp:127.0.0.1:$SPARE_PORT:69" --no-http)
  NETWORK_STATUS='{"backend":"user","interface":"slirp",'
else
  OTHER_PORT=8070
  SECOND_NET=(--tap tap1)
  NETWORK_STATUS='{"backend":"tap","interface":"tap0",'
fi

# http METHOD PATH [curl args...]: sets CODE, BODY, TYPE (Content-Type) and HEADERS.
http() {
  local method=$1 path=$2
  shift 2
  CODE=$(timeout 10 curl -sS -X "$method" -o body.out -D headers.out -w '%{http_code}' \
         "$@" "$API$path" 2>curl.err) || fail "curl $method $path failed: $(cat curl.err)"
  BODY=$(cat body.out)
  HEADERS=$(tr -d '\r' < headers.out)
  TYPE=$(printf '%s\n' "$HEADERS" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
}

# expect_error CODE MESSAGE METHOD PATH [curl args...]
expect_error() {
  local want=$1 message=$2
  shift 2
  http "$@"
  [ "$CODE" = "$want" ] || fail "$1 $2: status $CODE, expected $want (body: $BODY)"
  [ "$TYPE" = application/json ] || fail "$1 $2: Content-Type '$TYPE', expected application/json"
  [ "$(jq -r .error <<<"$BODY")" = "$message" ] \
    || fail "$1 $2: error '$(jq -r .error <<<"$BODY")', expected '$message'"
  say "ok: $1 $2 -> $CODE $message"
}

# jq_is FILTER EXPECTED [JSON]: the filter's compact output must equal EXPECTED.
jq_is() {
  local got
  got=$(jq -c "$1" <<<"${3:-$BODY}") || fail "jq '$1' failed on: ${3:-$BODY}"
  [ "$got" = "$2" ] || fail "status $1 is $got, expected $2"
}

board_start
board_wait "control: board page and JSON API on http://$CONTROL_ADDR/"

# --- GET /api/status ------------------------------------------------------------------------
http GET /api/status
[ "$CODE" = 200 ] || fail "GET /api/status: status $CODE"
[ "$TYPE" = application/json ] || fail "GET /api/status: Content-Type '$TYPE'"
jq_is 'keys_unsorted' '["board","network","transfer","flash","slots","flash_error"]'
jq_is '.flash_error' 'null'
jq_is '.board | keys_unsorted' '["mode","reason","detail","key_held","application","uptime_ms"]'
jq_is '.board | del(.uptime_ms)' \
  '{"mode":"iap","reason":"no application","detail":"no application at 0x08010000 (erased)","key_held":false,"application":null}'
jq_is '.network | del(.rx_frames, .tx_frames)' \
  "$NETWORK_STATUS"'"mac":"00:00:00:00:00:02","ip":"192.168.0.10","netmask":"255.255.255.0","gateway":"192.168.0.1","address_source":"static","up":true,"rx_dropped_stalled":0}'
jq_is '.transfer' 'null'
jq_is '.flash | del(.sectors, .timing_scale)' '{"size":1048576,"user_flash":"0x08010000","busy":false,"timing":"none","operations_since_power_on":0,"last_upgrade_silicon_ms":null,"power_cuts":0}'
jq_is '.flash.timing_scale == 1' 'true'   # jq 1.6 prints 1.0 as 1, jq 1.7 as 1.0
jq_is '.slots' '{"boot_verify":"integrity","layout":"single","list":[{"name":"primary","address":"0x08010000","end":"0x08100000","max_image":982912,"content":"empty","detail":"empty at 0x08010000","record":null}]}'
jq_is '[.flash.sectors[] | [.sector, .address, .size, .bootloader, .erased, .erase_count]]' \
  '[[0,"0x08000000",16384,true,true,0],[1,"0x08004000",16384,true,true,0],[2,"0x08008000",16384,true,true,0],[3,"0x0800c000",16384,true,true,0],[4,"0x08010000",65536,false,true,0],[5,"0x08020000",131072,false,true,0],[6,"0x08040000",131072,false,true,0],[7,"0x08060000",131072,false,true,0],[8,"0x08080000",131072,false,true,0],[9,"0x080a0000",131072,false,true,0],[10,"0x080c0000",131072,false,true,0],[11,"0x080e0000",131072,false,true,0]]'
say "ok: GET /api/status: every member, IAP mode, erased flash"

# --- an upload, watched through /api/events and /api/status ---------------------------------
mkimg app.bin --link 0x08010000 --size 100000 --seed 31
timeout 60 curl -sS -N "$API/api/events" > events.txt 2>events.err &
events_pid=$!
sleep 0.5
cp flash.bin before.bin
log_mark
python3 "$TESTS_DIR/integration/control_slow_tftp.py" "$TFTP_HOST" app.bin --port "$TFTP_PORT" \
  --delay 0.005 --tsize \
  > slow.out 2>&1 &
slow_pid=$!
# While it runs, the status shows the transfer.
seen=
for i in $(seq 1 100); do
  http GET /api/status
  if [ "$(jq -c .transfer <<<"$BODY")" != null ]; then seen=$BODY; break; fi
  sleep 0.05
done
[ -n "$seen" ] || fail "GET /api/status never showed the transfer in progress"
jq_is '.transfer | keys_unsorted' '["protocol","peer","bytes","expected_bytes","percent","rate_bytes_per_s","elapsed_ms"]' "$seen"
jq_is '.transfer | [.protocol, .peer, .expected_bytes]' '["TFTP","192.168.0.1",100000]' "$seen"
jq -e '.transfer.percent == ((.transfer.bytes * 100 / 100000) | floor)' <<<"$seen" >/dev/null \
  || fail "transfer percent does not match its bytes: $(jq -c .transfer <<<"$seen")"
wait "$slow_pid" || fail "the slow TFTP upload failed: $(cat slow.out)"
check_flashed app.bin before.bin
sleep 0.5
kill "$events_pid" 2>/dev/null; wait "$events_pid" 2>/dev/null
say "ok: GET /api/status during the upload: $(jq -c .transfer <<<"$seen")"

head -n 2 events.txt | grep -qx 'retry: 2000' || fail "the event stream does not start with 'retry: 2000'"
grep -qF 'data: {"level":"info","module":"tftp","text":"server ready on 192.168.0.10 port 69"' events.txt \
  || fail "the event stream does not replay the LCD's last lines (server ready)"
grep -qF 'data: {"level":"info","module":"tftp","text":"transfer started from 192.168.0.1:' events.txt \
  || fail "no 'transfer started' log event"
grep -qF '"module":"flash","text":"TFTP: done, 100000 bytes at 0x08010000, CRC-32 '"$(crc32_of app.bin)"'"' events.txt \
  || fail "no 'TFTP: done' log event"
progress=$(grep -A1 -x 'event: progress' events.txt | sed -n 's/^data: //p')
n_progress=$(grep -c '"protocol":"TFTP"' <<<"$progress")
[ "$n_progress" -ge 3 ] || fail "only $n_progress progress events during a 2-second upload"
jq -s -e 'map(select(. != null)) | (map(.bytes) | . == sort) and all(.expected_bytes == 100000)' \
  <<<"$progress" >/dev/null || fail "progress events out of order or without the size: $progress"
[ "$(tail -n 1 <<<"$progress")" = null ] || fail "the last progress event is not null (transfer over)"
say "ok: GET /api/events: LCD lines and $n_progress progress events, then null"

# --- after the upload: the flash map and the dump -----------------------------------------
http GET /api/status
jq_is '[.flash.sectors[4,5] | [.erased, .erase_count]]' '[[false,1],[false,1]]'
jq_is '[.flash.sectors[6:10][] | .erase_count] | add' '0'
jq_is '.flash.sectors[11].erase_count' '1'
http GET /api/flash
[ "$CODE" = 200 ] || fail "GET /api/flash: status $CODE"
[ "$TYPE" = application/octet-stream ] || fail "GET /api/flash: Content-Type '$TYPE'"
[ "$(stat -c %s body.out)" -eq "$FLASH_SIZE" ] || fail "GET /api/flash: $(stat -c %s body.out) bytes"
cmp -s body.out flash.bin || fail "GET /api/flash differs from the flash file: $(cmp body.out flash.bin)"
say "ok: GET /api/flash: $FLASH_SIZE bytes, equal to the flash file; sectors 4-5 erased once"

# --- POST /api/reset ------------------------------------------------------------------------
log_mark
http POST /api/reset -H 'Content-Type: application/json' --data '{"key": false}'
[ "$CODE" = 200 ] || fail "POST /api/reset: status $CODE: $BODY"
[ "$BODY" = '{"reset":true,"key":false,"mode":"application"}' ] || fail "POST /api/reset: $BODY"
board_wait "control: reset (POST /api/reset)" 5
board_wait "boot: jump to application: MSP=$(word_at app.bin 0) PC=$(word_at app.bin 4)" 5
http GET /api/status
jq_is '.board | del(.uptime_ms)' \
  "{\"mode\":\"application\",\"reason\":\"valid application\",\"detail\":\"image #1, 100000 bytes at 0x08010000, SHA-256 verified\",\"key_held\":false,\"application\":{\"msp\":\"$(word_at app.bin 0)\",\"pc\":\"$(word_at app.bin 4)\"}}"
jq_is '.network.up' 'false'
say "ok: POST /api/reset {\"key\": false}: jump to the application"

log_mark
http POST /api/reset -H 'Content-Type: application/json; charset=utf-8' --data '{"key":true}'
[ "$BODY" = '{"reset":true,"key":true,"mode":"iap"}' ] || fail "POST /api/reset key: $BODY"
board_wait "control: reset with Key held (POST /api/reset)" 5
board_wait "boot: IAP mode (Key button held)" 5
board_wait "$READY_LINE" 5
http GET /api/status
jq_is '.board | [.mode, .key_held, .application]' '["iap",true,null]'
say "ok: POST /api/reset {\"key\": true}: IAP mode"

# --- bad requests ---------------------------------------------------------------------------
log_mark
J=(-H 'Content-Type: application/json')
expect_error 400 'empty body: expected {"key": true} or {"key": false}' POST /api/reset "${J[@]}"
expect_error 400 '"key" must be true or false: expected {"key": true} or {"key": false}' \
  POST /api/reset "${J[@]}" --data '{"key": "yes"}'
expect_error 400 'unknown member "force": expected {"key": true} or {"key": false}' \
  POST /api/reset "${J[@]}" --data '{"key": true, "force": true}'
expect_error 400 "JSON error at line 1, column 11: ':' expected near 'true': expected {\"key\": true} or {\"key\": false}" \
  POST /api/reset "${J[@]}" --data '{"key" true}'
head -c 300 /dev/zero | tr '\0' ' ' > big.json
expect_error 413 'body larger than 256 bytes: expected {"key": true} or {"key": false}' \
  POST /api/reset "${J[@]}" --data-binary @big.json
expect_error 415 'Content-Type must be application/json' POST /api/reset --data '{"key": true}'
expect_error 415 'Content-Type must be application/json' POST /api/reset \
  -H 'Content-Type: application/jsonx' --data '{"key": true}'
expect_error 403 'cross-origin request refused: Origin is not this server' POST /api/reset \
  "${J[@]}" -H 'Origin: http://evil.example' --data '{"key": true}'
expect_error 403 "Host 'evil.example:8069' is not an address of this server (name it by IP address or localhost)" \
  GET /api/status -H 'Host: evil.example:8069'
expect_error 405 'GET /api/reset: use POST with {"key": true} or {"key": false}' GET /api/reset
printf '%s\n' "$HEADERS" | grep -qx 'Allow: POST' || fail "405 without 'Allow: POST': $HEADERS"
expect_error 405 'DELETE /api/status: only GET and HEAD are allowed here' DELETE /api/status
printf '%s\n' "$HEADERS" | grep -qx 'Allow: GET, HEAD' || fail "405 without 'Allow: GET, HEAD'"
expect_error 404 'no such resource: /api/nothing (the API is /api/status, /api/reset, /api/power-cut, /api/flash, /api/events; the board page is /)' \
  GET /api/nothing
log_has "control: reset" && fail "a refused request reset the board"
proc_alive "$IAPD_PID" || fail "iapd died on bad requests"

# --- bounds: eight event streams, a ninth is refused; a client that never reads -----------
stream_pids=()
for i in 1 2 3 4 5 6 7 8; do
  timeout 30 curl -sS -N "$API/api/events" > "stream$i.txt" 2>/dev/null &
  stream_pids+=($!)
done
for i in $(seq 1 50); do
  n=$(grep -lx 'retry: 2000' stream*.txt 2>/dev/null | wc -l)
  [ "$n" -eq 8 ] && break
  sleep 0.1
done
[ "$n" -eq 8 ] || fail "only $n of 8 event streams started"
expect_error 503 'too many event streams open (8); close one and retry' GET /api/events
kill "${stream_pids[@]}" 2>/dev/null; wait "${stream_pids[@]}" 2>/dev/null

# A client that asks for events and never reads: the board goes on (an upload works).
python3 - "$CONTROL_ADDR" > stall.out 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, int(port)))
s.sendall(b"GET /api/events HTTP/1.1\r\nHost: %s\r\n\r\n" % sys.argv[1].encode())
time.sleep(20)
PY
stall_pid=$!
sleep 0.5
mkimg app2.bin --link 0x08010000 --size 300000 --seed 32
cp flash.bin before.bin
log_mark
out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put app2.bin app.bin 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] || fail "upload with a stalled event client failed: $out"
check_flashed app2.bin before.bin
http GET /api/status
[ "$CODE" = 200 ] || fail "GET /api/status with a stalled event client: $CODE"
kill "$stall_pid" 2>/dev/null; wait "$stall_pid" 2>/dev/null
say "ok: 8 event streams, a 9th gets 503; a client that never reads holds up nothing"
board_stop

# --- --control ADDR:PORT, none, a port in use -------------------------------------------------
board_start --key --control "127.0.0.2:$OTHER_PORT"
board_wait "control: board page and JSON API on http://127.0.0.2:$OTHER_PORT/"
[ "$(timeout 5 curl -sS "http://127.0.0.2:$OTHER_PORT/api/status" | jq -r .board.mode)" = iap ] \
  || fail "--control 127.0.0.2:$OTHER_PORT: no status there"
timeout 5 curl -sS -o /dev/null "$API/api/status" 2>/dev/null && fail "still listening on $CONTROL_ADDR"
# A second board cannot take the same port: exit 1, with a message that says why.
out=$(timeout 10 "$IAPD" -f "${SECOND_NET[@]}" --flash "$WORK/other.bin" \
  --control "127.0.0.2:$OTHER_PORT" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "a second iapd on a busy control port exited $rc, expected 1: $out"
grep -qF "control: error: control server: cannot listen on 127.0.0.2:$OTHER_PORT" <<<"$out" \
  || fail "a busy control port: no 'cannot listen' message: $out"
board_stop
say "ok: --control 127.0.0.2:$OTHER_PORT; a busy port: exit 1 ($(grep -F 'cannot listen' <<<"$out"))"

board_start --key --control none
log_has "control:" && fail "--control none: a control line was logged"
timeout 5 curl -sS -o /dev/null "$API/api/status" 2>/dev/null && fail "--control none: still listening"
board_stop
say "ok: --control none: no control server"
exit 0
