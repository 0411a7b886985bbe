# Helpers for the HTTP IAP integration tests; sourced after lib.sh (bash).
#
#   . "$TESTS_DIR/integration/lib.sh"
#   . "$TESTS_DIR/integration/http_lib.sh"
#   net_enter "$0" "$@"
#   http_board_start           # iapd on $WORK/flash.bin, TFTP and HTTP ready
#   hcurl -u user:stm32 -T app.bin "$BASE_URL/firmware"
#
# Every client runs under `timeout`, inside the test's own network namespace, or against the
# forwards of --user-net on 127.0.0.1 (BASE_URL is set after net_enter: http_base_url).

HTTP_READY_LINE="http: server ready on $BOARD_IP port 80"
BASE_URL="http://$BOARD_IP"

# http_board_start [iapd args...]: board_launch, then wait until TFTP and HTTP are ready.
http_board_start() {
  BASE_URL=$HTTP_URL
  board_launch --control none "$@"
  board_wait "$READY_LINE"
  board_wait "$HTTP_READY_LINE"
}

# hcurl ARGS...: curl with a time limit, no proxy, errors shown, never retrying.
hcurl() {
  timeout 60 curl --compressed --silent --show-error --noproxy '*' --max-time 50 "$@"
}

# login JAR: logs in with user/stm32, keeps the session cookie in JAR, asserts the upload page.
login() {
  local jar=$1 out
  out=$(hcurl -c "$jar" -d username=user -d password=stm32 -w '\n%{http_code}' \
    "$BASE_URL/checklogin.cgi") || fail "login: curl failed"
  [ "${out##*$'\n'}" = 200 ] || fail "login: status ${out##*$'\n'}, expected 200"
  grep -q 'enctype="multipart/form-data"' <<<"$out" || fail "login: no upload form in the answer"
  grep -q "#HttpOnly_$HTTP_HOST"$'\tFALSE\t/\tFALSE\t0\tiapd_session\t[0-9a-f]\{32\}$' "$jar" \
    || fail "login: no HttpOnly iapd_session cookie of 32 hex digits in $(cat "$jar")"
}

# status_of OUTPUT: the last line (curl -w '\n%{http_code}').
status_of() {
  printf '%s\n' "${1##*$'\n'}"
}

# body_of OUTPUT: what came before that line, without the body's final newline.
body_of() {
  local b=${1%$'\n'*}
  printf '%s\n' "${b%$'\n'}"
}

# check_http_flashed IMAGE BEFORE: like check_flashed, for an upload over HTTP.
check_http_flashed() {
  local img=$1 before=$2 n crc end_img end_sec
  n=$(stat -c %s "$img")
  crc=$(crc32_of "$img")
  board_wait "flash: HTTP: done, $n bytes at 0x08010000, CRC-32 $crc" 10
  log_has "complete: $n bytes, CRC-32 $crc; reset to run it" \
    || fail "no 'complete: $n bytes, CRC-32 $crc' line"
  cmp -s <(flash_region "$USER_FLASH_OFFSET" "$n") "$img" \
    || fail "flash at 0x08010000 differs from $(basename "$img") ($n bytes)"
  end_img=$((USER_FLASH_OFFSET + n))
  end_sec=$(sector_end $((end_img - 1)))
  # The last 128 bytes of the flash are the commit record's (check_record).
  [ "$end_sec" -gt "$RECORD_OFFSET" ] && end_sec=$RECORD_OFFSET
  all_ff "$end_img" $((end_sec - end_img)) \
    || fail "flash after the $n-byte image is not erased (the closing boundary was stored?)"
  cmp -s <(flash_region 0 "$USER_FLASH_OFFSET") <(file_region "$before" 0 "$USER_FLASH_OFFSET") \
    || fail "the bootloader sectors changed during an upload"
  check_record "$img"
}

# sp_slot: the word at 0x08010000 as 0x%08x.
sp_slot() {
  word_at "$WORK/flash.bin" "$USER_FLASH_OFFSET"
}
