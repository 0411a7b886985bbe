#!/bin/bash
# Reset semantics of the emulated board (AN3376 figure 1, with a real validity check):
#   - no application (erased vector table): IAP mode;
#   - reset without Key (SIGUSR2) and a valid application: jump, with the vector table's words
#     exactly as stored (Thumb bit included); the IAP services stop while the app runs;
#   - reset with Key (SIGUSR1): IAP mode, uploads work again;
#   - power-on (a new iapd on the same flash file) jumps, or with --key stays in IAP mode;
#   - --exit-on-jump: iapd exits 0 right after the jump;
#   - an invalid vector table in flash: a message saying what is wrong, and IAP mode.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

flash_sha() { sha256sum < "$WORK/flash.bin" | cut -d' ' -f1; }

# upload_ok IMAGE: tftp-hpa binary upload that must succeed and land exactly.
upload_ok() {
  local out rc
  cp flash.bin before.bin
  log_mark
  out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$1" app.bin 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then fail "upload of $1 failed (exit $rc): $out"; fi
  check_flashed "$1" before.bin
}

# jump_line IMAGE: what iapd must log when it starts IMAGE.
jump_line() {
  echo "boot: jump to application: MSP=$(word_at "$1" 0) PC=$(word_at "$1" 4)"
}

# 1. Power-on with no flash file: iapd creates it erased, and there is nothing to run.
[ -e flash.bin ] && hard_error "flash.bin exists before the first start"
board_start
log_has "boot: IAP mode (no application" || fail "empty flash: expected 'IAP mode (no application ...)'"
log_has "jump to application" && fail "empty flash: the board jumped"
[ "$(stat -c %s flash.bin)" -eq "$FLASH_SIZE" ] || fail "the new flash file is not $FLASH_SIZE bytes"
all_ff 0 "$FLASH_SIZE" || fail "the new flash file is not erased (all 0xFF)"
say "ok: no flash file: created erased, IAP mode (no application)"

# 2. Upload, then reset without Key: the board jumps to the vectors as stored.
mkimg app1.bin --link 0x08010000 --size 12345 --seed 201
[ "$(word_at app1.bin 4)" = 0x080101c1 ] || hard_error "mkimage: unexpected reset vector $(word_at app1.bin 4)"
upload_ok app1.bin
board_reset
board_wait "board: reset (SIGUSR2)" 5
board_wait "$(jump_line app1.bin)" 5
board_wait "boot: application running" 5
log_has "boot: IAP mode" && fail "reset without Key: IAP mode logged next to the jump"
log_has "$READY_LINE" && fail "reset without Key: the TFTP server came up while the app runs"
say "ok: reset without Key: $(jump_line app1.bin)"

# 3. While the application runs, the bootloader does not answer: uploads fail, flash unchanged.
mkimg app2.bin --link 0x08010000 --size 23456 --seed 202 --sp 0x10010000
sha=$(flash_sha)
log_mark
out=$(timeout 6 curl -sS --max-time 2 -T app2.bin "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1)
rc=$?
[ "$rc" -ne 0 ] || fail "curl upload succeeded while the application runs"
out2=$(timeout 2 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put app2.bin app.bin 2>&1)
rc2=$?
[ "$rc2" -ne 0 ] || [ -n "$out2" ] || fail "tftp upload succeeded while the application runs"
log_has "transfer started" && fail "a transfer started while the application runs"
[ "$(flash_sha)" = "$sha" ] || fail "flash changed while the application runs"
say "ok: app running: uploads fail (curl exit $rc: ${out:-no output}; tftp-hpa killed after 2 s: exit $rc2)"

# 4. Reset with Key: IAP mode again, and uploads work; the new app (stack in CCM RAM) runs.
board_reset key
board_wait "board: reset with Key held (SIGUSR1)" 5
board_wait "boot: IAP mode (Key" 5
board_wait "$READY_LINE" 5
log_has "jump to application" && fail "reset with Key: the board jumped"
upload_ok app2.bin
board_reset
board_wait "$(jump_line app2.bin)" 5
[ "$(jump_line app2.bin)" = "boot: jump to application: MSP=0x10010000 PC=0x080101c1" ] \
  || hard_error "mkimage wrote unexpected vectors: $(jump_line app2.bin)"
say "ok: reset with Key: IAP mode, upload, reset: $(jump_line app2.bin)"

# SIGTERM while the application runs: a clean exit.
board_stop

# 5. Power-on on the same flash file: jumps without Key, IAP mode with --key.
board_launch
board_wait "board: power on" 5
board_wait "$(jump_line app2.bin)" 5
sleep 0.3
log_has "$READY_LINE" && fail "power-on with a valid app: the TFTP server came up"
log_has "boot: IAP mode" && fail "power-on with a valid app: IAP mode"
board_stop
board_start --key
log_has "board: power on with Key held" || fail "--key: no 'power on with Key held' line"
log_has "boot: IAP mode (Key" || fail "power-on with --key: expected 'IAP mode (Key ...)'"
log_has "jump to application" && fail "power-on with --key: the board jumped"
board_stop INT
say "ok: power-on: jump without Key, IAP mode with --key"

# 6. --exit-on-jump: iapd exits 0 by itself right after the jump.
board_launch --exit-on-jump
board_await_exit 10
[ "$BOARD_RC" -eq 0 ] || fail "--exit-on-jump: iapd exited $BOARD_RC, expected 0"
log_has "$(jump_line app2.bin)" || fail "--exit-on-jump: iapd exited without the jump line"
log_has "boot: --exit-on-jump: exiting" || fail "--exit-on-jump: iapd does not say why it exits"
last_boot=$(log_since_mark | grep -n 'boot: jump to application' | cut -d: -f1)
total=$(log_since_mark | wc -l)
log_since_mark | tail -n "+$last_boot" | grep -qF -e "TFTP" -e "$READY_LINE" \
  && fail "--exit-on-jump: iapd did more than exit after the jump"
say "ok: --exit-on-jump: exit 0 right after the jump (line $last_boot of $total)"

# With Key held it waits in IAP mode; the reset without Key then jumps and exits.
board_start --exit-on-jump --key
board_reset
board_await_exit 10
[ "$BOARD_RC" -eq 0 ] || fail "--exit-on-jump, reset: iapd exited $BOARD_RC, expected 0"
log_has "$(jump_line app2.bin)" || fail "--exit-on-jump, reset: no jump line"
say "ok: --exit-on-jump --key: IAP mode until the reset, then jump and exit 0"

# 7. Invalid vector tables written into the stopped board's flash: a message, and IAP mode.
# write_vectors SP RESET: programs words 0 and 1 at 0x08010000 in the flash file.
write_vectors() {
  python3 -c 'import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0x10000)
    f.write(struct.pack("<II", int(sys.argv[2], 0), int(sys.argv[3], 0)))' flash.bin "$1" "$2" \
    || hard_error "cannot write the vector table into flash.bin"
}

# expect_invalid SP RESET WHY: power-on with those vectors must log WHY and stay in IAP mode.
expect_invalid() {
  write_vectors "$1" "$2"
  board_start
  log_has "boot: warning: cannot start the application: $3" \
    || fail "vectors SP=$1 reset=$2: expected 'cannot start the application: $3'"
  log_has "boot: IAP mode (invalid application)" \
    || fail "vectors SP=$1 reset=$2: expected 'IAP mode (invalid application)'"
  log_has "jump to application" && fail "vectors SP=$1 reset=$2: the board jumped"
  board_stop
  say "ok: SP=$1 reset=$2: $3...; IAP mode (invalid application)"
}

expect_invalid 0x30000000 0x080101c1 \
  "not an application image: initial stack pointer 0x30000000 is not a word-aligned address in SRAM"
expect_invalid 0x20020000 0x080101c0 \
  "not an application image: reset vector 0x080101c0 lacks the Thumb bit"
expect_invalid 0x20020000 0x080001c1 \
  "image linked for 0x08000000, expected 0x08010000"

# The board in IAP mode after an invalid app takes an upload, and the new app runs.
board_start
upload_ok app1.bin
board_reset
board_wait "$(jump_line app1.bin)" 5
board_stop
say "ok: after an invalid app: upload and jump"
exit 0
