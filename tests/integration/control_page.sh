#!/bin/bash
# The board page of the control server in headless Chromium (tests/browser/board_page.mjs,
# puppeteer-core): a screenshot during a slow TFTP upload shows the progress; Reset on the
# page makes the board jump, Key + Reset brings it back to IAP mode; iapd's log agrees. Last,
# the flash file is deleted: the page shows iapd's error, and iapd exits 1 (not saved).
# Screenshots are kept in $IAPD_ARTEFACTS/control_page (the build tree's tests/artefacts).
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
ARTEFACTS=${IAPD_ARTEFACTS:-$PWD/tests/artefacts}/control_page
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"

BROWSER_DIR=$TESTS_DIR/browser
command -v node >/dev/null || hard_error "node is not installed (scripts/bootstrap.sh deps)"
[ -x /usr/bin/chromium ] || hard_error "/usr/bin/chromium is not installed (scripts/bootstrap.sh deps)"
need_node_modules "$BROWSER_DIR"
mkdir -p "$ARTEFACTS" || hard_error "cannot create $ARTEFACTS"
rm -f "$ARTEFACTS"/*.png

board_start
mkimg app.bin --link 0x08010000 --size 150000 --seed 41
log_mark
timeout 120 node "$BROWSER_DIR/board_page.mjs" --url "http://$CONTROL_ADDR/" --out "$ARTEFACTS" \
  --upload "python3 $TESTS_DIR/integration/control_slow_tftp.py $TFTP_HOST $WORK/app.bin --port $TFTP_PORT --delay 0.02 --tsize" \
  --lose-flash "$WORK/flash.bin" > node.out 2>&1
rc=$?
cat node.out >&2
[ "$rc" -eq 0 ] || fail "the board page test failed (exit $rc); screenshots in $ARTEFACTS"

log_has "flash: TFTP: done, 150000 bytes at 0x08010000, CRC-32 $(crc32_of app.bin)" \
  || fail "iapd did not log the upload the page watched"
log_has "control: reset (POST /api/reset)" || fail "no 'reset (POST /api/reset)' line from the page's Reset"
log_has "boot: jump to application: MSP=$(word_at app.bin 0) PC=$(word_at app.bin 4)" \
  || fail "the page's Reset did not make the board jump"
log_has "control: reset with Key held (POST /api/reset)" || fail "no reset with Key from the page"
for png in board-upload.png board-jumped.png board-key-reset.png board-flash-lost.png; do
  [ "$(head -c 8 "$ARTEFACTS/$png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] \
    || fail "$ARTEFACTS/$png is not a PNG"
done
kill -TERM "$IAPD_PID"
board_await_exit 5
[ "$BOARD_RC" = 1 ] || fail "iapd exited $BOARD_RC after its flash file was deleted, expected 1"
say "ok: board page: progress during the upload, Reset jumps, Key + Reset: IAP mode, the lost flash file shown ($ARTEFACTS)"
exit 0
