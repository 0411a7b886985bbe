#!/bin/bash
# Images the board must refuse, and what the refusal leaves in flash:
#   - linked for 0x08000000, a bad initial SP, a reset vector without the Thumb bit: refused
#     from the vector table, before anything is erased: the flash file is byte-identical and
#     the application already there still boots;
#   - a read request: refused, nothing touched;
#   - too large, announced (curl sends tsize): ERROR 3 before anything is erased;
#   - too large, not announced (tftp-hpa): ERROR 3 at the first byte past the user flash; the
#     old application is gone by then, but the SP slot is still erased, so the board stays in
#     IAP mode at reset instead of jumping into half an image;
#   - after all that, a valid upload works and boots.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

USER_FLASH_BYTES=$((0x100000 - 0x10000 - 128))   # 960 KiB from 0x08010000, less the record area

flash_sha() { sha256sum < "$WORK/flash.bin" | cut -d' ' -f1; }

# tftp_put IMAGE: tftp-hpa in binary mode; its output (stdout and stderr) in OUT, status in RC.
tftp_put() {
  OUT=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$1" app.bin 2>&1)
  RC=$?
  [ "$RC" -ne 124 ] || fail "tftp put $(basename "$1") hung (killed after 30 s)"
}

# expect_refused WHAT IMAGE TFTP_ERROR_TEXT LOG_TEXT: tftp-hpa must print TFTP_ERROR_TEXT
# (e.g. "Error code 0: image linked for ...") and iapd log LOG_TEXT and "flash unchanged";
# the flash file must not change by a single byte.
expect_refused() {
  local what=$1 img=$2 client_text=$3 log_text=$4 sha_before
  sha_before=$(flash_sha)
  log_mark
  tftp_put "$img"
  case "$OUT" in
    *"$client_text"*) ;;
    *) fail "$what: tftp-hpa should print '$client_text', printed: $OUT" ;;
  esac
  board_wait "flash: error: TFTP upload from $HOST_IP refused: $log_text" 5
  board_wait "flash: flash unchanged" 5
  log_has "TFTP: done," && fail "$what: iapd reports the refused image as written"
  [ "$(flash_sha)" = "$sha_before" ] || fail "$what: the flash file changed"
  say "ok: $what refused (tftp-hpa: ${OUT%%$'\n'*})"
}

# expect_jump IMAGE: a reset without Key starts IMAGE: iapd logs its exact vectors.
expect_jump() {
  local sp pc
  sp=$(word_at "$1" 0)
  pc=$(word_at "$1" 4)
  board_reset
  board_wait "boot: jump to application: MSP=$sp PC=$pc" 5
  log_has "boot: IAP mode" && fail "IAP mode and a jump after one reset"
  # Back to IAP mode (Key held) for the next step.
  board_reset key
  board_wait "boot: IAP mode (Key" 5
  board_wait "$READY_LINE" 5
}

flash_erased "$WORK/flash.bin"
board_start

# A valid application, so that every refusal has something to destroy.
mkimg app.bin --link 0x08010000 --size 30001 --seed 101
cp flash.bin before.bin
log_mark
tftp_put app.bin
if [ "$RC" -ne 0 ] || [ -n "$OUT" ]; then fail "valid upload: tftp-hpa exited $RC: $OUT"; fi
check_flashed app.bin before.bin

# (a) Linked for the start of flash, where the bootloader lives (reset vector 0x080001c1).
mkimg wrong-link.bin --link 0x08000000 --size 30001 --seed 102
expect_refused "image linked for 0x08000000" wrong-link.bin \
  "Error code 0: image linked for 0x08000000, expected 0x08010000" \
  "image linked for 0x08000000, expected 0x08010000 (reset vector 0x080001c1 is outside the user flash 0x08010000-0x080fffff)"

# The same refusal seen through curl. curl maps the ERROR 0 to CURLE_TFTP_ILLEGAL (71). Whether
# it prints the server's text depends on its version: 7.88 shows a stale getpeername() error
# instead (curl/curl#11332), so tftp-hpa above is the client whose message we check.
sha_before=$(flash_sha)
log_mark
out=$(timeout 30 curl -sS --max-time 25 -T wrong-link.bin "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1)
rc=$?
[ "$rc" -eq 71 ] || fail "curl, image linked for 0x08000000: expected exit 71 (ERROR 0), got $rc: $out"
board_wait "flash: error: TFTP upload from $HOST_IP refused: image linked for 0x08000000" 5
board_wait "flash: flash unchanged" 5
[ "$(flash_sha)" = "$sha_before" ] || fail "curl, wrong link address: the flash file changed"
say "ok: curl gets the refusal (exit 71: $out)"

# (d) An initial SP outside RAM; then a reset vector without the Thumb bit.
mkimg bad-sp.bin --link 0x08010000 --size 30001 --seed 103 --sp 0x30000000
expect_refused "initial SP 0x30000000" bad-sp.bin \
  "Error code 0: not an application image: initial stack pointer 0x30000000" \
  "not an application image: initial stack pointer 0x30000000 is not a word-aligned address in SRAM"
mkimg even-reset.bin --link 0x08010000 --size 30001 --seed 104 --reset 0x080101c0
expect_refused "reset vector without the Thumb bit" even-reset.bin \
  "Error code 0: not an application image: reset vector 0x080101c0 lacks the Thumb bit" \
  "not an application image: reset vector 0x080101c0 lacks the Thumb bit"

# (c) A read request: this board serves no files (ERROR 2, access violation).
sha_before=$(flash_sha)
log_mark
out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c get x "$WORK/x" 2>&1)
[ "$?" -ne 124 ] || fail "tftp get hung"
case "$out" in
  *"Error code 2: this board only takes uploads"*) ;;
  *) fail "read request: expected 'Error code 2: this board only takes uploads', got: $out" ;;
esac
[ "$(flash_sha)" = "$sha_before" ] || fail "read request: the flash file changed"
say "ok: read request refused (${out%%$'\n'*})"

# Too large, announced: curl sends tsize=982913 with the WRQ; refused before any erase.
mkimg too-large.bin --link 0x08010000 --size $((USER_FLASH_BYTES + 1)) --seed 105
[ "$(stat -c %s too-large.bin)" -eq 982913 ] || hard_error "too-large.bin is not 982913 bytes"
sha_before=$(flash_sha)
log_mark
out=$(timeout 30 curl -sS --max-time 25 -T too-large.bin "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1)
rc=$?
# curl maps TFTP ERROR 3 (disk full or allocation exceeded) to CURLE_REMOTE_DISK_FULL, 70.
[ "$rc" -eq 70 ] || fail "curl, 982913 bytes announced: expected exit 70 (ERROR 3), got $rc: $out"
board_wait "flash: error: TFTP upload from $HOST_IP refused: image too large: 982913 bytes, the user flash 0x08010000-0x080fff7f holds 982912 bytes" 5
log_has "transfer started" && fail "an announced oversize upload started a transfer"
[ "$(flash_sha)" = "$sha_before" ] || fail "curl, 982913 bytes announced: the flash file changed"
say "ok: 982913 bytes announced by curl: refused up front ($out)"

# Every refusal so far left the application intact: it still boots.
expect_jump app.bin
say "ok: the application survived every refusal and boots"

# (b) Too large, not announced: the board learns it at byte 982913, after erasing all of the
# user flash. ERROR 3, and the SP slot stays erased: no jump into a truncated image.
log_mark
tftp_put too-large.bin
case "$OUT" in
  *"Error code 3: image too large"*) ;;
  *) fail "982913 bytes, not announced: expected 'Error code 3: image too large', got: $OUT" ;;
esac
board_wait "flash: error: TFTP upload from $HOST_IP refused: image too large" 5
board_wait "no application in flash now: the board stays in IAP mode at reset" 5
[ "$(hex_at 0x10000 8)" = ffffffffffffffff ] \
  || fail "after the oversize upload the vector table at 0x08010000 is $(hex_at 0x10000 8), expected erased"
# Every 512-byte block that fit went in, but the held-back head: 1919 blocks, 982528 bytes.
# Block 1920 (385 bytes, 384 of room left before the record area) was refused whole: the
# rest of the user flash up to the record area is erased.
accepted=$(( USER_FLASH_BYTES / 512 * 512 ))
cmp -s <(flash_region $((0x10000 + 8)) $((accepted - 8))) <(file_region too-large.bin 8 $((accepted - 8))) \
  || fail "after the oversize upload the user flash does not hold the $accepted bytes it accepted"
all_ff $((0x10000 + accepted)) $((USER_FLASH_BYTES - accepted)) \
  || fail "after the oversize upload the user flash past the $accepted bytes accepted is not erased"
board_reset
board_wait "boot: IAP mode (no application" 5
board_wait "$READY_LINE" 5
log_has "jump to application" && fail "the board jumped after a refused oversize upload"
say "ok: 982913 bytes not announced: ERROR 3, SP slot erased, reset stays in IAP mode"

# (e) The server takes the next upload as if nothing happened.
mkimg app2.bin --link 0x08010000 --size 40000 --seed 106
cp flash.bin before.bin
log_mark
tftp_put app2.bin
if [ "$RC" -ne 0 ] || [ -n "$OUT" ]; then
  fail "upload after the refusals: tftp-hpa exited $RC: $OUT"
fi
check_flashed app2.bin before.bin
expect_jump app2.bin
say "ok: a valid upload after the refusals is written and boots"

board_stop
exit 0
