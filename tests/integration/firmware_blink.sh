#!/bin/bash
# The demo application built by the firmware cross build (fixtures/blink-0x08010000.bin, kept
# in the tree) goes through the emulated board as it would through the real one:
#   - uploaded over TFTP, it lands byte for byte at 0x08010000 and passes the vector checks;
#   - at reset without Key the board "jumps" with the blink's own MSP and reset vector;
#   - the same application linked at 0x08000000 (fixtures/blink-0x08000000.bin) is refused,
#     naming 0x08010000, and leaves flash untouched;
#   - all of it again with --flash-driver stm32 (the firmware's FLASH driver).
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

FIXTURES=$TESTS_DIR/../fixtures
BLINK=$FIXTURES/blink-0x08010000.bin
WRONG=$FIXTURES/blink-0x08000000.bin
[ -s "$BLINK" ] && [ -s "$WRONG" ] \
  || hard_error "fixtures/blink-*.bin missing: make fixtures-blink (needs arm-none-eabi-gcc)"

flash_sha() { sha256sum < "$WORK/flash.bin" | cut -d' ' -f1; }

# The blink's vector table, read from the file: what the jump must use.
msp=$(word_at "$BLINK" 0)
pc=$(word_at "$BLINK" 4)
size=$(stat -c %s "$BLINK")
[ "$msp" = 0x20020000 ] || hard_error "$BLINK: initial SP $msp, expected 0x20020000"
[ $((pc & 1)) -eq 1 ] && [ $((pc & ~1)) -ge $((0x08010000)) ] \
  && [ $((pc & ~1)) -lt $((0x08010000 + size)) ] \
  || hard_error "$BLINK: reset vector $pc is not a Thumb address inside the image"
[ "$(word_at "$WRONG" 4)" = "$(printf '0x%08x' $((pc - 0x10000)))" ] \
  || hard_error "$WRONG is not the same application linked 64 KiB lower"

for driver in direct stm32; do
  flash_erased flash.bin
  board_start --flash-driver "$driver"
  [ "$driver" = direct ] || log_has "through the STM32 FLASH driver" \
    || fail "--flash-driver stm32: no line saying the driver is in use"

  # The one linked for the bootloader's own flash: refused from its vector table.
  sha=$(flash_sha)
  log_mark
  out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$WRONG" app.bin 2>&1)
  case "$out" in
    *"Error code 0: image linked for 0x08000000, expected 0x08010000"*) ;;
    *) fail "$driver: blink linked at 0x08000000: expected 'Error code 0: image linked for 0x08000000, expected 0x08010000', tftp-hpa printed: $out" ;;
  esac
  board_wait "flash: error: TFTP upload from $HOST_IP refused: image linked for 0x08000000, expected 0x08010000" 5
  board_wait "flash: flash unchanged" 5
  [ "$(flash_sha)" = "$sha" ] || fail "$driver: the refused blink changed the flash file"
  say "ok ($driver): blink linked at 0x08000000 refused: ${out%%$'\n'*}"

  # The real one: lands, and boots with its own vectors.
  cp flash.bin before.bin
  log_mark
  out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$BLINK" blink.bin 2>&1)
  [ "$?" -eq 0 ] && [ -z "$out" ] || fail "$driver: upload of the blink failed: $out"
  check_flashed "$BLINK" before.bin
  board_reset
  board_wait "boot: jump to application: MSP=$msp PC=$pc" 5
  log_has "boot: IAP mode" && fail "$driver: IAP mode after a reset with the blink in flash"
  say "ok ($driver): blink uploaded ($size bytes), reset: jump to MSP=$msp PC=$pc"
  board_stop
done
exit 0
