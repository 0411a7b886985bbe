#!/bin/bash
# AN3376 section 4.3 steps 8-13 in real browsers against the emulated board: Debian's Chromium
# and Firefox ESR, driven by puppeteer-core (tests/browser/iap_pages.mjs), log in, pick a file,
# upload it, see the done page with size and CRC-32, press RESET MCU; this script then sees
# the board jump to the new application. A screenshot of each page is kept in
# tests/browser-shots/<browser>/ of the build tree.
#
# The browsers and puppeteer-core are installed by scripts/bootstrap.sh (npm ci in
# tests/browser): a missing one is an error of the test machine (99), not a skip.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"

browser_dir=$TESTS_DIR/browser
for tool in node /usr/bin/chromium /usr/bin/firefox-esr; do
  command -v "$tool" >/dev/null 2>&1 \
    || hard_error "'$tool' is not installed; scripts/bootstrap.sh deps installs it"
done
need_node_modules "$browser_dir"
shots_root=${BROWSER_SHOTS_DIR:-$(dirname "$IAPD")/tests/browser-shots}

net_enter "$0" "$@"

flash_erased "$WORK/flash.bin"
# The browsers must not write into the real home directory.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$HOME"

run_browser() {
  local name=$1 seed=$2 img n crc pc shots
  img=$WORK/$name-app.bin
  mkimg "$img" --link 0x08010000 --size $((40000 + seed)) --seed "$seed"
  n=$(stat -c %s "$img")
  crc=$(crc32_of "$img")
  pc=$(word_at "$img" 4)
  shots=$shots_root/$name
  rm -rf "$shots" "$WORK/profile-$name"
  mkdir -p "$shots" "$WORK/profile-$name"
  cp "$WORK/flash.bin" "$WORK/before.bin"
  log_mark
  BASE_URL=$BASE_URL IMAGE=$img SHOTS=$shots PROFILE=$WORK/profile-$name \
    EXPECT_RESULT="$n bytes written at 0x08010000, CRC-32 $crc." \
    timeout 180 node "$browser_dir/iap_pages.mjs" "$name" > "$WORK/$name.out" 2>&1
  rc=$?
  sed "s/^/  $name: /" "$WORK/$name.out" >&2
  [ "$rc" = 0 ] || fail "$name: the page flow failed (exit $rc); screenshots in $shots"
  check_http_flashed "$img" "$WORK/before.bin"
  board_wait "board: reset (RESET MCU on the HTTP page)" 10
  board_wait "boot: jump to application: MSP=0x20020000 PC=$pc" 10
  for f in 1-login 2-login-wrong 3-upload 4-done 5-reset; do
    [ -s "$shots/$f.png" ] || fail "$name: no screenshot $f.png"
  done
  say "$name: upload, done page, RESET MCU and jump: ok (screenshots in $shots)"
}

http_board_start
run_browser chromium 1
board_reset key
board_wait "$HTTP_READY_LINE" 10
run_browser firefox 2
board_stop
say "ok"
