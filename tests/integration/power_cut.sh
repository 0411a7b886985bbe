#!/bin/bash
# Power cuts (--power-cut-at-op, --power-cut-mode, --seed; POST /api/power-cut) and the stall
# of a timed flash operation (--flash-timing):
#   - a clean upload counts its flash operations ("N flash operations since power-on", and
#     operations_since_power_on in /api/status);
#   - a clean cut at the first erase: exit status 3, the exact log line, the flash file
#     unchanged, and the next power-on runs the old application;
#   - a clean cut at the vector table: the next power-on stays in IAP mode (no application);
#     a clean cut at the last operation (the record's commit word): IAP mode too, the image
#     has no commit record;
#   - a torn cut at the vector table: the log line says which word reads what, and the flash
#     file holds exactly that;
#   - POST /api/power-cut with nothing in progress: the exact reply, a power-on in the same
#     process; bad bodies refused;
#   - with --flash-timing typical and a scale, the control server answers during a 4-second
#     erase (flash.busy true), POST /api/reset waits (409), and POST /api/power-cut tears the
#     erase in progress.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v jq >/dev/null || hard_error "jq is not installed (scripts/bootstrap.sh deps installs it)"

API=http://127.0.0.1:8069
OLD=app-old.bin
NEW=app-new.bin
mkimg "$OLD" --link 0x08010000 --size 6000 --seed 61
mkimg "$NEW" --link 0x08010000 --size 5000 --seed 62
flash_erased flash.bin

# put IMAGE: a tftp-hpa upload in the background (the board may die under it); CLIENT_PID.
put() {
  timeout 30 tftp -m binary "$BOARD_IP" -c put "$1" app.bin > tftp.out 2>&1 &
  CLIENT_PID=$!
}

# cut_during_put ARGS...: from the flash with the old application, a board started with Key
# held and ARGS (the cut), the new image put to it; returns once iapd has exited with 3.
cut_during_put() {
  cp with-old.bin flash.bin
  board_start --key "$@"
  put "$NEW"
  board_await_exit 10
  kill "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null
  [ "$BOARD_RC" = 3 ] || fail "iapd exited with $BOARD_RC after the power cut ($*), expected 3"
}

# power_on_decision: a new iapd on the same file; prints the boot line it logs, then stops.
power_on_decision() {
  board_launch --exit-on-jump --control none
  for _ in $(seq 1 50); do
    log_has "boot: jump to application" && break
    log_has "boot: IAP mode" && break
    sleep 0.1
  done
  log_since_mark | grep -E "boot: (jump to application|IAP mode)" | head -n 1 | sed 's/^iapd: //'
  if proc_alive "$IAPD_PID"; then board_stop; else board_await_exit 5; fi
}

# 1. The old application, and a clean upload of the new one that counts its operations.
board_start
put "$OLD"; wait "$CLIENT_PID" || fail "upload of $OLD failed: $(cat tftp.out)"
board_wait "flash: TFTP: done, 6000 bytes" 5
board_stop
cp flash.bin with-old.bin
board_start --key
put "$NEW"; wait "$CLIENT_PID" || fail "upload of $NEW failed: $(cat tftp.out)"
board_wait "flash: TFTP: done, 5000 bytes" 5
board_wait "flash: TFTP upload ended: silicon time 1.6 s (typical: 2 sector erases, 1266 program accesses); iapd did not stall (--flash-timing none)" 5
status=$(timeout 5 curl -sS "$API/api/status") || fail "GET /api/status failed"
N=$(jq .flash.operations_since_power_on <<<"$status")
# 5000 bytes in 512-byte blocks: block 1 erases sector 11 (the commit record's, first) and
# sector 4, and programs 504 bytes (the first 8 wait), 8 more full blocks, the last of 392
# bytes; the 8 held back bytes; the record's 60-byte body and its commit word: 13 programs.
[ "$N" = 15 ] || fail "a 5000-byte upload counted $N flash operations, expected 15 (2 erases, 13 programs)"
[ "$(jq .flash.last_upgrade_silicon_ms <<<"$status")" = 1570 ] \
  || fail "last_upgrade_silicon_ms $(jq .flash.last_upgrade_silicon_ms <<<"$status"), expected 1570 (1000 + 550 ms erases + 1266 x 16 us)"
board_stop
log_has "flash: 15 flash operations since power-on" || fail "no '15 flash operations since power-on' line at exit"
say "ok: a clean upload of $NEW: $N flash operations, silicon time 1570 ms"

# 2. Clean cut at operation 1, the erase of sector 11: nothing changed, the old app runs.
cut_during_put --power-cut-at-op 1 --power-cut-mode clean
log_has "board: warning: power cut at flash operation 1: erase of sector 11 (0x080e0000, 128 KiB) not done (clean cut)" \
  || fail "no exact power cut line for a clean cut at operation 1"
log_has "board: flash synced, exiting with status 3 (power cut)" || fail "no 'flash synced' line"
cmp -s flash.bin with-old.bin || fail "a clean cut before the first erase changed the flash"
line=$(power_on_decision)
[ "$line" = "boot: jump to application: MSP=$(word_at "$OLD" 0) PC=$(word_at "$OLD" 4)" ] \
  || fail "power-on after a clean cut at the first erase: '$line', expected the old application"
say "ok: clean cut at operation 1: exit 3, flash unchanged, power-on runs the old application"

# 3. Clean cut at operation 13, the vector table: nothing bootable, IAP mode.
cut_during_put --power-cut-at-op 13 --power-cut-mode clean
log_has "power cut at flash operation 13: program of 8 bytes at 0x08010000 not done (clean cut)" \
  || fail "no exact power cut line for a clean cut at operation 13"
[ "$(hex_at $USER_FLASH_OFFSET 8)" = ffffffffffffffff ] || fail "the vector table is not erased"
cmp -s <(flash_region $((USER_FLASH_OFFSET + 8)) 4992) <(file_region "$NEW" 8 4992) \
  || fail "the body of $NEW is not in flash after a cut at the vector table"
line=$(power_on_decision)
[ "$line" = "boot: IAP mode (no application)" ] || fail "power-on: '$line', expected IAP mode (no application)"
say "ok: clean cut at operation 13 (the vector table): power-on in IAP mode"

# 3b. Clean cut at the last operation, the record's commit word: the image is complete, its
#     record body too, but without the commit word there is no record: IAP mode.
cut_during_put --power-cut-at-op 15 --power-cut-mode clean
log_has "power cut at flash operation 15: program of 4 bytes at 0x080fffbc not done (clean cut)" \
  || fail "no exact power cut line for a clean cut at operation 15"
cmp -s <(flash_region "$USER_FLASH_OFFSET" 5000) "$NEW" || fail "$NEW is not in flash after a cut at the commit word"
[ "$(hex_at $((0xfffbc)) 4)" = ffffffff ] || fail "the commit word is not erased"
line=$(power_on_decision)
[ "$line" = "boot: IAP mode (image integrity: no valid commit record for the image at 0x08010000 (record invalid: not committed (upload interrupted)))" ] \
  || fail "power-on: '$line', expected IAP mode (no commit record)"
say "ok: clean cut at operation 15 (the commit word): power-on in IAP mode"

# 4. Torn cut at the vector table: the line says what each word reads, and the file agrees.
cut_during_put --power-cut-at-op 13 --seed 5
line=$(log_since_mark | grep -o 'power cut at flash operation 13: .*')
[[ "$line" =~ ^power\ cut\ at\ flash\ operation\ 13:\ program\ of\ 8\ bytes\ at\ 0x08010000\ torn:\ ([01])\ of\ 2\ words\ programmed,\ (0x0801000[04])\ reads\ (0x[0-9a-f]{8})\ \((0x[0-9a-f]{8})\ intended\),\ nothing\ after$ ]] \
  || fail "torn cut line: '$line'"
done_words=${BASH_REMATCH[1]} addr=${BASH_REMATCH[2]} reads=${BASH_REMATCH[3]} want=${BASH_REMATCH[4]}
off=$((addr - 0x08000000))
[ "$(word_at flash.bin "$off")" = "$reads" ] || fail "flash at $addr holds $(word_at flash.bin "$off"), the log says $reads"
[ "$want" = "$(word_at "$NEW" $((off - USER_FLASH_OFFSET)))" ] || fail "intended $want is not the image's word"
if [ "$done_words" = 1 ]; then
  [ "$(word_at flash.bin $USER_FLASH_OFFSET)" = "$(word_at "$NEW" 0)" ] || fail "word 0 not programmed"
else
  [ "$(word_at flash.bin $((USER_FLASH_OFFSET + 4)))" = 0xffffffff ] || fail "word 1 programmed after the torn word 0"
fi
say "ok: torn cut at operation 13: $line"

# 5. POST /api/power-cut with nothing in progress: a power-on in the same process.
cp with-old.bin flash.bin
board_launch
board_wait "boot: jump to application" 5
board_wait "control: board page" 5
status=$(timeout 5 curl -sS "$API/api/status")
[ "$(jq .flash.operations_since_power_on <<<"$status")" = 0 ] || fail "operations at power-on: $status"
reply=$(timeout 5 curl -sS -X POST -H 'Content-Type: application/json' --data '{}' "$API/api/power-cut")
[ "$reply" = '{"power_cut":true,"operation":null,"operations":0,"cut":"torn","what":"no flash operation in progress","mode":"application"}' ] \
  || fail "POST /api/power-cut: $reply"
board_wait "board: warning: power cut after flash operation 0: no flash operation in progress (POST /api/power-cut)" 5
board_wait "board: power on" 5
board_wait "boot: jump to application: MSP=$(word_at "$OLD" 0) PC=$(word_at "$OLD" 4)" 5
status=$(timeout 5 curl -sS "$API/api/status")
[ "$(jq -c '[.flash.power_cuts, .flash.operations_since_power_on, .board.mode]' <<<"$status")" = '[1,0,"application"]' ] \
  || fail "status after the power cut: $(jq -c .flash <<<"$status" | head -c 300)"
code=$(timeout 5 curl -sS -o body.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '' "$API/api/power-cut")
[ "$code" = 400 ] && [ "$(jq -r .error body.out)" = 'empty body: expected {} or {"mode": "torn"} or {"mode": "clean"}' ] \
  || fail "POST /api/power-cut with no body: $code $(cat body.out)"
code=$(timeout 5 curl -sS -o body.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '{"mode":"half"}' "$API/api/power-cut")
[ "$code" = 400 ] && [ "$(jq -r .error body.out)" = '"mode" must be "torn" or "clean": expected {} or {"mode": "torn"} or {"mode": "clean"}' ] \
  || fail "POST /api/power-cut {\"mode\":\"half\"}: $code $(cat body.out)"
code=$(timeout 5 curl -sS -o body.out -w '%{http_code}' "$API/api/power-cut")
[ "$code" = 405 ] && [ "$(jq -r .error body.out)" = 'GET /api/power-cut: use POST with {} or {"mode": "torn"} or {"mode": "clean"}' ] \
  || fail "GET /api/power-cut: $code $(cat body.out)"
board_stop
say "ok: POST /api/power-cut: exact reply, power-on in the same process, bad bodies refused"

# 6. A 4-second erase (sector 11, the commit record's, erased first: 1 s at typical x32;
#    scale 4): the control server answers meanwhile, a reset waits, and a power cut tears
#    the erase.
cp with-old.bin flash.bin
board_start --flash-timing typical --flash-timing-scale 4 --key
put "$NEW"
busy=
for _ in $(seq 1 50); do
  status=$(timeout 2 curl -sS --max-time 1 "$API/api/status") || fail "GET /api/status during the erase did not answer within 1 s"
  if [ "$(jq .flash.busy <<<"$status")" = true ]; then busy=1; break; fi
  sleep 0.05
done
[ -n "$busy" ] || fail "flash.busy never true during a 4 s erase"
code=$(timeout 5 curl -sS -o body.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '{"key":false}' "$API/api/reset")
[ "$code" = 409 ] && [ "$(jq -r .error body.out)" = 'flash busy: a flash operation stalls the board; wait for it to end (flash.busy in /api/status) or cut the power (POST /api/power-cut)' ] \
  || fail "POST /api/reset during the erase: $code $(cat body.out)"
reply=$(timeout 5 curl -sS -X POST -H 'Content-Type: application/json' --data '{"mode":"torn"}' "$API/api/power-cut")
kill "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null
[ "$(jq -c '[.power_cut, .operation, .operations, .cut, .mode]' <<<"$reply")" = '[true,1,1,"torn","iap"]' ] \
  || fail "POST /api/power-cut during the erase: $reply"
what=$(jq -r .what <<<"$reply")
[[ "$what" =~ ^erase\ of\ sector\ 11\ \(0x080e0000,\ 128\ KiB\)\ torn:\ (0x080[ef][0-9a-f]{4})-(0x080[ef][0-9a-f]{4})\ erased(,\ (0x080[ef][0-9a-f]{4})\ half\ erased\ \((0x[0-9a-f]{8}),\ was\ (0x[0-9a-f]{8})\))?,\ the\ rest\ as\ it\ was$ ]] \
  || fail "what the cut tore: '$what'"
board_wait "board: warning: power cut at flash operation 1: $what (POST /api/power-cut)" 5
board_wait "boot: IAP mode (Key button held)" 5
board_stop
# The flash is exactly what the sentence says: the old flash, the run erased, the half-erased
# word; the program that followed the erase in the same stall never happened.
python3 - with-old.bin flash.bin "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]}" \
  "${BASH_REMATCH[5]}" "${BASH_REMATCH[6]}" <<'PY' || fail "the flash file is not what the torn erase says: $what"
import struct, sys
old = bytearray(open(sys.argv[1], "rb").read())
got = open(sys.argv[2], "rb").read()
first, last = int(sys.argv[3], 16) - 0x08000000, int(sys.argv[4], 16) - 0x08000000
old[first:last + 1] = b"\xff" * (last + 1 - first)
if sys.argv[5]:
    off = int(sys.argv[5], 16) - 0x08000000
    assert struct.unpack_from("<I", old, off)[0] == int(sys.argv[7], 16)
    struct.pack_into("<I", old, off, int(sys.argv[6], 16))
sys.exit(0 if bytes(old) == got else 1)
PY
say "ok: 4 s erase: /api/status answered (busy), reset 409, power cut tore it: $what"
