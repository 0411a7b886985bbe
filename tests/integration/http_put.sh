#!/bin/bash
# The script endpoint: PUT /firmware (and POST with application/octet-stream) with HTTP Basic
# auth, as `curl -u user:stm32 -T app.bin http://192.168.0.10/firmware`, a chunked body
# (`curl -T -`), the JSON answers, wrong and missing credentials and the brake on guessing,
# and options: other credentials (command line and configuration file), --no-http.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
net_enter "$0" "$@"

flash_erased "$WORK/flash.bin"
mkimg "$WORK/app.bin" --link 0x08010000 --size 20000 --seed 3
mkimg "$WORK/big.bin" --link 0x08010000 --size 1500000 --seed 4
head -c 700001 "$WORK/big.bin" > "$WORK/app700k.bin"
http_board_start

# put_ok IMAGE CURL-ARGS...: an upload that must succeed, answer the exact JSON, and land.
put_ok() {
  local img=$1 out n crc
  shift
  n=$(stat -c %s "$img")
  crc=$(crc32_of "$img")
  cp "$WORK/flash.bin" "$WORK/before.bin"
  log_mark
  out=$(hcurl -w '\n%{http_code}' "$@") || fail "curl $* failed"
  [ "$(status_of "$out")" = 200 ] || fail "curl $*: status $(status_of "$out"): $out"
  [ "$(body_of "$out")" = "{\"ok\":true,\"size\":$n,\"crc32\":\"$crc\",\"address\":\"0x08010000\"}" ] \
    || fail "curl $*: answer '$(body_of "$out")'"
  check_http_flashed "$img" "$WORK/before.bin"
}

# The issue's command line, as is.
put_ok "$WORK/app.bin" -u user:stm32 -T "$WORK/app.bin" "$BASE_URL/firmware"
# Chunked transfer coding: curl -T - reads standard input, size unknown.
put_ok "$WORK/app700k.bin" -u user:stm32 -T - "$BASE_URL/firmware" < "$WORK/app700k.bin"
log_has "started (raw, chunked)" || fail "the upload from standard input was not chunked"
# POST with application/octet-stream, an image that fills the user flash to its last byte.
head -c 982912 "$WORK/big.bin" > "$WORK/full.bin"
put_ok "$WORK/full.bin" -u user:stm32 -H 'Content-Type: application/octet-stream' \
  -H 'Expect: 100-continue' --data-binary "@$WORK/full.bin" "$BASE_URL/firmware"
put_ok "$WORK/app.bin" -u user:stm32 -T "$WORK/app.bin" -H 'Expect: 100-continue' \
  "$BASE_URL/firmware"

# No credentials, wrong ones: 401 with a challenge, flash unchanged.
sha=$(sha256sum < "$WORK/flash.bin")
out=$(hcurl -D "$WORK/h401" -T "$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
[ "$(status_of "$out")" = 401 ] || fail "no credentials: status $(status_of "$out")"
grep -q '^WWW-Authenticate: Basic realm="iapd", charset="UTF-8"' "$WORK/h401" \
  || fail "no credentials: no WWW-Authenticate challenge"
[ "$(body_of "$out")" = '{"ok":false,"status":401,"error":"authentication required (HTTP Basic: curl -u user:password)"}' ] \
  || fail "no credentials: answer '$(body_of "$out")'"
for cred in user:stm33 User:stm32; do
  out=$(hcurl -u "$cred" -T "$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
  [ "$(status_of "$out")" = 401 ] || fail "$cred: status $(status_of "$out")"
  grep -q '"error":"wrong user or password"' <<<"$out" || fail "$cred: answer $out"
done
[ "$(sha256sum < "$WORK/flash.bin")" = "$sha" ] || fail "a refused upload changed the flash"

# The third failure in a row: from then on each attempt waits (429), the right one too.
out=$(hcurl -u user:wrong -T "$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
[ "$(status_of "$out")" = 401 ] || fail "third failure: status $(status_of "$out")"
out=$(hcurl -D "$WORK/h429" -u user:stm32 -T "$WORK/app.bin" -w '\n%{http_code}' \
  "$BASE_URL/firmware")
[ "$(status_of "$out")" = 429 ] || fail "after 3 failures: status $(status_of "$out")"
grep -q '^Retry-After: 1' "$WORK/h429" || fail "429 without Retry-After: 1"
sleep 1.2
put_ok "$WORK/app.bin" -u user:stm32 -T "$WORK/app.bin" "$BASE_URL/firmware"
board_stop

# Other credentials from the command line; the defaults no longer work. (--key from here on:
# the flash holds a valid application now.)
http_board_start --key --http-user admin --http-password 's3cret:pass'
out=$(hcurl -u user:stm32 -T "$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
[ "$(status_of "$out")" = 401 ] || fail "--http-user: the default user still works"
put_ok "$WORK/app.bin" -u 'admin:s3cret:pass' -T "$WORK/app.bin" "$BASE_URL/firmware"
board_stop

# ... and from the configuration file, with the form login.
printf 'http-user = boss\nhttp-password = hunter22\nhttp-session-timeout = 2\n' > "$WORK/iapd.conf"
http_board_start --key --config "$WORK/iapd.conf"
out=$(hcurl -c "$WORK/jar" -d username=boss -d password=hunter22 -w '\n%{http_code}' \
  "$BASE_URL/checklogin.cgi")
[ "$(status_of "$out")" = 200 ] || fail "config file credentials: status $(status_of "$out")"
out=$(hcurl -b "$WORK/jar" -w '\n%{http_code}' "$BASE_URL/upload.html")
[ "$(status_of "$out")" = 200 ] || fail "session right after login: $(status_of "$out")"
sleep 2.2
out=$(hcurl -b "$WORK/jar" -w '\n%{http_code}' "$BASE_URL/upload.html")
[ "$(status_of "$out")" = 403 ] || fail "http-session-timeout = 2: the session lived on"
board_stop

# --no-http: nothing listens on port 80 (TFTP still does).
board_launch --control none --key --no-http
board_wait "$READY_LINE"
log_has "http: disabled (--no-http)" || fail "--no-http: not logged"
out=$(hcurl -w '%{http_code}' "$BASE_URL/" 2>&1) && fail "--no-http: port 80 answered: $out"
board_stop
say "ok"
