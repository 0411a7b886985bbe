#!/bin/bash
# iapd --flash-driver stm32: every erase, program and read of the IAP code goes through the
# firmware's STM32 FLASH driver (firmware/flash_stm32.c) and a register model of the FLASH
# interface. Uploads over TFTP must land exactly as with the direct driver:
#   - an odd-sized image over two sectors (4 and 5) from tftp-hpa, another from curl;
#   - the flash file after the upload is byte-identical to the one the direct driver writes;
#   - a reset (FLASH_CR locked again) with Key, then another upload: the driver unlocks again;
#   - a refused image leaves the flash untouched.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

mkimg big.bin --link 0x08010000 --size 150001 --seed 401
mkimg small.bin --link 0x08010000 --size 4097 --seed 402 --sp 0x10010000
mkimg wrong.bin --link 0x08000000 --size 5000 --seed 403

# The reference: the same upload through the direct driver.
flash_erased flash.bin
board_start --flash-driver direct
cp flash.bin before.bin
log_mark
out=$(timeout 60 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put big.bin app.bin 2>&1)
[ "$?" -eq 0 ] && [ -z "$out" ] || fail "direct driver: upload failed: $out"
check_flashed big.bin before.bin
board_stop
cp flash.bin direct.bin

flash_erased flash.bin
board_start --flash-driver stm32
log_has "through the STM32 FLASH driver" || fail "no line saying the STM32 driver is in use"
cp flash.bin before.bin
log_mark
out=$(timeout 60 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put big.bin app.bin 2>&1)
[ "$?" -eq 0 ] && [ -z "$out" ] || fail "stm32 driver: tftp-hpa upload failed: $out"
check_flashed big.bin before.bin
cmp -s flash.bin direct.bin || fail "the flash file differs from the direct driver's: $(cmp flash.bin direct.bin 2>&1)"
say "ok: 150001 bytes over sectors 4-5 through the STM32 driver, flash identical to the direct driver's"

# A reset with Key locks FLASH_CR again; the next upload (curl, tsize announced) unlocks it.
board_reset key
board_wait "boot: IAP mode (Key" 5
board_wait "$READY_LINE" 5
cp flash.bin before.bin
log_mark
out=$(timeout 60 curl -sS --max-time 50 -T small.bin "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1)
[ "$?" -eq 0 ] || fail "stm32 driver, after a reset: curl upload failed: $out"
check_flashed small.bin before.bin
board_reset
board_wait "boot: jump to application: MSP=0x10010000 PC=$(word_at small.bin 4)" 5
say "ok: reset, curl upload through the relocked driver, jump"

# A refused image: nothing erased, nothing programmed.
board_reset key
board_wait "$READY_LINE" 5
sha=$(sha256sum < flash.bin)
log_mark
out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put wrong.bin app.bin 2>&1)
case "$out" in
  *"Error code 0: image linked for 0x08000000, expected 0x08010000"*) ;;
  *) fail "wrong image: tftp-hpa printed: $out" ;;
esac
board_wait "flash: flash unchanged" 5
[ "$(sha256sum < flash.bin)" = "$sha" ] || fail "a refused image changed the flash file"
say "ok: refused image, flash unchanged"
log_mark
board_stop
# The driver did the work, and by the rules: no wrong KEYR sequence, nothing while BSY.
line=$(log_since_mark | grep -o 'FLASH interface: .*') || fail "no FLASH interface counters at exit"
case "$line" in
  *" 0 bus errors, 0 accesses while BSY") ;;
  *) fail "the driver broke the FLASH interface's rules: $line" ;;
esac
erases=$(echo "$line" | sed -n 's/.*: \([0-9]*\) sector erases.*/\1/p')
[ "$erases" = 5 ] || fail "expected 5 sector erases (11, 4 and 5, then 11 and 4: the record sector first), the model counted: $line"
say "ok: $line"
exit 0
