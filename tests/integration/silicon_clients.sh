#!/bin/bash
# make check-silicon: every client against the chip's real flash timing. With
# --flash-timing typical and with max, unscaled, the largest image (982912 bytes: the whole
# user flash less the commit record's 128 bytes at its end; 8 sector erases and 245728 word
# programs, and the record) is uploaded in each client's default
# settings: tftp-hpa, curl (TFTP), atftp, busybox tftp, curl (HTTP PUT /firmware) and
# Chromium (the upload page). Each must land byte for byte, an HTTP client's in one upload;
# the time each took is printed (measured, not asserted).
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
browser_dir=$TESTS_DIR/browser
command -v node >/dev/null && [ -x /usr/bin/chromium ] \
  || hard_error "node and chromium are needed; scripts/bootstrap.sh deps installs them"
need_node_modules "$browser_dir"
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_CACHE_HOME=$WORK/home/.cache
mkdir -p "$HOME"

mkimg app.bin --link 0x08010000 --size 982912 --seed 81
N=982912
CRC=$(crc32_of app.bin)
flash_erased flash.bin

# upload CLIENT: one upload from CLIENT; prints its time.
upload() {
  local client=$1 t0 t1 rc out
  cp flash.bin before.bin
  log_mark
  t0=$(date +%s.%N)
  case $client in
    tftp-hpa) out=$(timeout 200 tftp -m binary "$BOARD_IP" -c put app.bin app.bin 2>&1) ;;
    curl-tftp) out=$(timeout 200 curl -sS -T app.bin "tftp://$BOARD_IP/app.bin" 2>&1) ;;
    atftp) out=$(timeout 200 atftp -p -l app.bin -r app.bin "$BOARD_IP" 2>&1) ;;
    busybox) out=$(timeout 200 busybox tftp -p -l app.bin -r app.bin "$BOARD_IP" 2>&1) ;;
    curl-http) out=$(timeout 200 curl -sS -u user:stm32 -T app.bin "$BASE_URL/firmware" 2>&1) ;;
    chromium)
      rm -rf profile shots; mkdir -p profile shots
      out=$(BASE_URL=$BASE_URL IMAGE=$WORK/app.bin SHOTS=$WORK/shots PROFILE=$WORK/profile \
            EXPECT_RESULT="$N bytes written at 0x08010000, CRC-32 $CRC." UPLOAD_TIMEOUT_MS=150000 \
            timeout 240 node "$browser_dir/iap_pages.mjs" chromium 2>&1) ;;
  esac
  rc=$?
  t1=$(date +%s.%N)
  [ "$rc" = 0 ] || fail "$TIMING: $client failed (exit $rc): $out"
  case $client in
    curl-http) [ "$out" = "{\"ok\":true,\"size\":$N,\"crc32\":\"$CRC\",\"address\":\"0x08010000\"}" ] \
                 || fail "$TIMING: curl-http answered: $out" ;;
    chromium) ;;
    busybox) ;;  # its progress meter, on a terminal or not
    *) [ -z "$out" ] || fail "$TIMING: $client said: $out" ;;
  esac
  case $client in
    curl-http|chromium) check_http_flashed app.bin before.bin
      # One upload, not a failed one and a retry: the board offers the window its receive
      # ring holds from the SYN-ACK on, and keeps a segment that comes after a lost one, so
      # a client that sends its body with its head (Chromium) gets over the frames an erase
      # loses with one resend each.
      local uploads
      uploads=$(log_since_mark | grep -c 'http: upload from .* started')
      [ "$uploads" = 1 ] || fail "$TIMING: $client needed $uploads uploads:
$(log_since_mark | grep 'http: ')" ;;
    *) check_flashed app.bin before.bin ;;
  esac
  board_wait "upload ended: silicon time" 10
  printf '%s %-9s %6.1f s  (%s)\n' "$TIMING" "$client" "$(echo "$t1 - $t0" | bc)" \
    "$(log_since_mark | grep -o 'silicon time [0-9.]* s' | head -n 1)" | tee -a "$WORK/times" >&2
  if [ "$client" = chromium ]; then
    board_wait "boot: jump to application" 10  # the page pressed RESET MCU
    board_reset key
    board_wait "$HTTP_READY_LINE" 10
  fi
}

for TIMING in typical max; do
  http_board_start --flash-timing "$TIMING"
  for client in tftp-hpa curl-tftp atftp busybox curl-http chromium; do
    upload "$client"
  done
  board_stop
  flash_erased flash.bin
done
say "every client uploaded $N bytes with typical and with max timing:"
cat "$WORK/times" >&2
