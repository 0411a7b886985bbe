#!/bin/bash
# --slots swap end to end on the emulated board (src/iap_swap.h, man iapd IMAGE RECORDS AND
# SLOTS): the user flash at 0x08020000, primary = sectors 5-7, staging = 8-10, scratch = 11.
#   - with the default user flash (0x08010000) iapd refuses the layout and says what to set;
#   - an upload lands in staging only; the reset after it swaps the image in and jumps;
#   - a second image swaps in at the next reset, and the first stays in staging, verified,
#     as the fallback (/api/status lists both slots and the scratch);
#   - one bit of the running image flipped in the flash file (bit rot): the power-on swaps
#     the fallback back, runs it, and leaves the failed image without a record; the next
#     reset swaps nothing.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

PRIMARY=$((0x20000)) STAGING=$((0x80000))

jump_line() {
  echo "boot: jump to application: MSP=$(word_at "$1" 0) PC=$(word_at "$1" 4)"
}

# upload IMAGE: tftp-hpa binary upload that must succeed; it lands in staging, byte for byte.
upload() {
  local out rc n
  n=$(stat -c %s "$1")
  log_mark
  out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$1" app.bin 2>&1)
  rc=$?
  { [ "$rc" -eq 0 ] && [ -z "$out" ]; } || fail "upload of $1 failed (exit $rc): $out"
  board_wait "flash: TFTP: done, $n bytes at 0x08080000, CRC-32 $(crc32_of "$1")" 10
  cmp -s <(flash_region "$STAGING" "$n") "$1" || fail "staging does not hold $1"
}

# holds OFFSET IMAGE: the flash at OFFSET is IMAGE byte for byte.
holds() {
  cmp -s <(flash_region "$1" "$(stat -c %s "$2")") "$2"
}

# slots: the status's slot list, one line per slot: "name content seq".
slots() {
  curl -sS --max-time 5 "http://$CONTROL_ADDR/api/status" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["slots"]["list"]:
    print(s["name"], s["content"], s["record"]["seq"] if s["record"] else "-")'
}

# 1. The default user flash: refused, with what to set.
flash_erased flash.bin
out=$(timeout 10 "$IAPD" --foreground "${BOARD_NET_ARGS[@]}" --flash flash.bin --slots swap 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "--slots swap with user flash 0x08010000: exit $rc, expected 2 ($out)"
[ "$out" = "iapd: slots swap pairs sectors of one size: sector 4 at 0x08010000 is 64 KiB and sector 5 is 128 KiB; start the user flash at 0x08020000 (a 128 KiB bootloader area)" ] \
  || fail "--slots swap with user flash 0x08010000 said: $out"
say "ok: refused with the default user flash: $out"

# 2. The first image: into staging, swapped in at the reset.
mkimg a.bin --link 0x08020000 --size 150001 --seed 301
mkimg b.bin --link 0x08020000 --size 200003 --seed 302
board_start --slots swap --user-flash 0x08020000
log_has "user flash 0x08020000-0x080fffff, sectors 0-4 protected" || fail "no user flash line for 0x08020000"
upload a.bin
all_ff "$PRIMARY" 0x60000 || fail "the upload touched the primary slot"
board_reset
board_wait "boot: swapping in image #1 (150001 bytes) from staging 0x08080000 into 0x08020000" 10
board_wait "boot: swapped: 10 steps, 0 already done" 20
board_wait "$(jump_line a.bin)" 10
holds "$PRIMARY" a.bin || fail "primary does not hold a.bin after the swap"
say "ok: a.bin uploaded into staging, swapped in at the reset: $(jump_line a.bin)"

# 3. The second image: swapped in, the first kept in staging as the fallback.
board_reset key
board_wait "$READY_LINE" 10
upload b.bin
holds "$PRIMARY" a.bin || fail "the upload of b.bin touched the running a.bin"
board_reset
board_wait "boot: swapping in image #2 (200003 bytes) from staging 0x08080000 into 0x08020000" 10
board_wait "$(jump_line b.bin)" 20
holds "$PRIMARY" b.bin || fail "primary does not hold b.bin after the swap"
holds "$STAGING" a.bin || fail "staging does not hold a.bin, the fallback, after the swap"
got=$(slots)
want=$'primary verified 2\nstaging verified 1\nscratch scratch -'
[ "$got" = "$want" ] || fail "/api/status slots after the second swap: $got"
say "ok: b.bin swapped in, a.bin kept in staging: $(echo "$got" | tr '\n' ';')"
board_stop

# 4. Bit rot in the running image: the power-on reverts to the fallback.
python3 - flash.bin $((PRIMARY + 123457)) <<'PY' || hard_error "cannot flip a bit"
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10]))
PY
board_launch --slots swap --user-flash 0x08020000
board_wait "boot: primary does not verify: reverting to image #1 (150001 bytes) from staging 0x08080000 into 0x08020000" 10
board_wait "boot: reverted: 10 steps, 0 already done" 20
board_wait "$(jump_line a.bin)" 10
holds "$PRIMARY" a.bin || fail "primary does not hold a.bin after the revert"
got=$(slots)
want=$'primary verified 1\nstaging no record -\nscratch scratch -'
[ "$got" = "$want" ] || fail "/api/status slots after the revert: $got"
board_reset
board_wait "$(jump_line a.bin)" 10
log_has "boot: swapping" && fail "the reset after the revert swapped again"
log_has "boot: primary does not verify" && fail "the reset after the revert reverted again"
board_stop
say "ok: one bit flipped in b.bin: reverted to a.bin, b.bin left unrecorded; the next reset swaps nothing"
