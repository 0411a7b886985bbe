#!/bin/bash
# The flash file deleted, or replaced, under a running iapd (man iapd, FILES): iapd logs it
# once, within a second; /api/status says it; every upload is refused before anything is
# erased, TFTP with an ERROR that says what to do, HTTP with 507; and at exit iapd says the
# flash was not saved and exits 1, never "flash synced, bye". Before, an upload reported
# done into a file nobody would open again.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
netns_enter "$0" "$@"

REFUSAL="upload refused: the flash's backing store is gone or cannot be written (iapd: restart it)"
mkimg "$WORK/app.bin" --link 0x08010000 --size 40000 --seed 51

# lost BOARD_FLASH HOW: the flash file made lost the way HOW says.
lose() {
  case $2 in
    delete) rm -f "$1" ;;
    replace) cp "$1" "$1.new" && mv -f "$1.new" "$1" ;;
  esac
}

for how in delete replace; do
  flash_erased "$WORK/flash.bin"
  board_start
  board_wait "$HTTP_READY_LINE"
  # an upload before: taken and kept
  out=$(timeout 30 tftp -m binary "$BOARD_IP" -c put "$WORK/app.bin" app.bin 2>&1) \
    || fail "$how: the upload before failed: $out"
  board_wait "flash: TFTP: done, 40000 bytes" 10

  log_mark
  lose "$WORK/flash.bin" "$how"
  case $how in
    delete) why="was deleted" ;;
    replace) why="was replaced by another file" ;;
  esac
  lost="flash file $WORK/flash.bin $why while iapd runs: what is programmed from now on is lost; uploads are refused until iapd is restarted"
  board_wait "flash: error: $lost" 5   # without any upload: the main loop's watch

  # TFTP: ERROR with the reason; HTTP: 507, in JSON and as the page
  out=$(timeout 30 tftp -m binary "$BOARD_IP" -c put "$WORK/app.bin" app.bin 2>&1)
  grep -qF "$REFUSAL" <<<"$out" || fail "$how: TFTP said '$out', not the refusal"
  out=$(hcurl -u user:stm32 -T "$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
  [ "$(status_of "$out")" = 507 ] || fail "$how: PUT status $(status_of "$out"), expected 507"
  [ "$(body_of "$out")" = "{\"ok\":false,\"status\":507,\"error\":\"$REFUSAL\"}" ] \
    || fail "$how: PUT answered $(body_of "$out")"
  login "$WORK/jar"
  out=$(hcurl -b "$WORK/jar" -F "datafile=@$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
  [ "$(status_of "$out")" = 507 ] || fail "$how: form upload status $(status_of "$out")"
  grep -qF "507 Insufficient Storage: upload refused: the flash&#39;s backing store is gone" <<<"$out" \
    || fail "$how: the form upload's page does not say why: $out"
  log_has "erased sector" && fail "$how: a refused upload erased a sector"

  # the status says it (as a string); the log said it once
  st=$(timeout 10 curl -s --noproxy '*' http://127.0.0.1:8069/api/status) \
    || fail "$how: no status"
  [ "$(jq -r .flash_error <<<"$st")" = "$lost" ] \
    || fail "$how: status flash_error is $(jq .flash_error <<<"$st")"
  [ "$(log_since_mark | grep -cF "$lost")" = 1 ] \
    || fail "$how: the loss was logged $(log_since_mark | grep -cF "$lost") times, not once"

  # exit: not saved, status 1
  kill -TERM "$IAPD_PID"
  board_await_exit 5
  [ "$BOARD_RC" = 1 ] || fail "$how: iapd exited $BOARD_RC with its flash file lost, expected 1"
  log_has "flash synced, bye" && fail "$how: iapd said 'flash synced, bye' with its flash file lost"
  log_has "flash: error: flash file $WORK/flash.bin not saved: it was lost while iapd ran" \
    || fail "$how: no 'not saved' line at exit"
done

# and a healthy board still exits 0 with "flash synced, bye"
flash_erased "$WORK/flash.bin"
board_start
board_stop
log_has "flash synced, bye" || fail "a healthy board did not say 'flash synced, bye'"
say "ok"
