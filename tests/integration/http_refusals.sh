#!/bin/bash
# What the HTTP server refuses, and that a refusal or a broken upload leaves the board as it
# must: too large (413, before anything is erased), an image linked for another address (flash
# unchanged), a connection dropped mid-upload or a body without its closing boundary (nothing
# bootable, and the next upload works), TFTP and HTTP uploads excluding each other (409 /
# "board busy"), request smuggling shapes and oversized heads.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
net_enter "$0" "$@"
RAW="python3 $TESTS_DIR/integration/http_raw.py --board $HTTP_HOST --http-port $HTTP_PORT --tftp-port $TFTP_PORT"

flash_erased "$WORK/flash.bin"
mkimg "$WORK/app.bin" --link 0x08010000 --size 300000 --seed 5
mkimg "$WORK/huge.bin" --link 0x08010000 --size 1500000 --seed 6
mkimg "$WORK/fit1.bin" --link 0x08010000 --size 982913 --seed 6
mkimg "$WORK/low.bin" --link 0x08000000 --size 20000 --seed 9
http_board_start
flash_sha() { sha256sum < "$WORK/flash.bin"; }

login "$WORK/jar"
token=$(awk '/iapd_session/ {print $7}' "$WORK/jar")

# --- too large: 413 at once, the page says the limit, nothing erased ---------------------
sha=$(flash_sha)
for img in huge.bin fit1.bin; do
  n=$(stat -c %s "$WORK/$img")
  log_mark
  # curl -F sends Expect: 100-continue for bodies over 1 MiB; force it for the smaller one.
  out=$(hcurl -b "$WORK/jar" -H 'Expect: 100-continue' -F "datafile=@$WORK/$img" \
    -w '\n%{http_code} %{time_total}' "$BASE_URL/upload.cgi")
  code=${out##*$'\n'}
  [ "${code% *}" = 413 ] || fail "form upload of $n bytes: status $code"
  grep -q "413 Payload Too Large: image too large: the request is [0-9]* bytes, the user flash 0x08010000-0x080fff7f holds 982912 bytes" <<<"$out" \
    || fail "the 413 page does not say the limit: $out"
  awk -v t="${code#* }" 'BEGIN { exit !(t < 0.9) }' \
    || fail "413 took ${code#* } s: the answer did not come at once (1 s Expect stall?)"
  out=$(hcurl -u user:stm32 -T "$WORK/$img" -w '\n%{http_code}' "$BASE_URL/firmware")
  [ "$(status_of "$out")" = 413 ] || fail "PUT of $n bytes: status $(status_of "$out")"
  [ "$(body_of "$out")" = "{\"ok\":false,\"status\":413,\"error\":\"image too large: $n bytes, the user flash 0x08010000-0x080fff7f holds 982912 bytes\"}" ] \
    || fail "PUT of $n bytes: answer $(body_of "$out")"
done
[ "$(flash_sha)" = "$sha" ] || fail "a 413 changed the flash"

# --- linked for 0x08000000: refused before erasing, flash unchanged ------------------------
log_mark
out=$(hcurl -b "$WORK/jar" -F "datafile=@$WORK/low.bin" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 422 ] || fail "wrong link address (form): status $(status_of "$out")"
grep -q '422 Unprocessable Entity: .*0x08010000' <<<"$out" || fail "no clear error: $out"
out=$(hcurl -u user:stm32 -T "$WORK/low.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
[ "$(status_of "$out")" = 422 ] || fail "wrong link address (PUT): status $(status_of "$out")"
log_has "flash unchanged" || fail "the writer did not report the flash unchanged"
[ "$(flash_sha)" = "$sha" ] || fail "an image for the wrong address changed the flash"

# --- a good upload, then broken ones over it ----------------------------------------------
cp "$WORK/flash.bin" "$WORK/before.bin"
log_mark
out=$(hcurl -b "$WORK/jar" -F "datafile=@$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 200 ] || fail "good upload: $(status_of "$out")"
check_http_flashed "$WORK/app.bin" "$WORK/before.bin"

# dropped with RST after 100000 bytes of the file
log_mark
timeout 30 $RAW partial "$WORK/app.bin" reset --form --cookie "$token" --send 100000 >/dev/null \
  || fail "http_raw.py partial reset failed"
board_wait "aborted after" 10
if [ "$BACKEND" = user ]; then
  # Through slirp the client's RST reaches the board as slirp's host socket ended it: a plain
  # end of stream when slirp had read the data before the RST (recv 0, SO_ERROR 0: slirp
  # sends a FIN), a reset when the RST came first (ECONNRESET: slirp sends an RST). Which
  # one is the host kernel's timing; the upload is aborted either way.
  log_since_mark | grep -qE "aborted after [0-9]+ bytes: the (client closed the connection|connection was reset by the client)" \
    || fail "the RST (a FIN or an RST through slirp) was not reported"
else
  log_has "the connection was reset by the client" || fail "the RST was not reported"
fi
[ "$(sp_slot)" = 0xffffffff ] || fail "after a dropped upload the SP slot is $(sp_slot)"

# closed (FIN) halfway through a PUT
log_mark
timeout 30 $RAW partial "$WORK/app.bin" close --send 150000 >/dev/null \
  || fail "http_raw.py partial close failed"
board_wait "aborted after" 10
log_has "the client closed the connection" || fail "the FIN was not reported"
[ "$(sp_slot)" = 0xffffffff ] || fail "after a closed upload the SP slot is $(sp_slot)"

# the whole file, but no closing boundary
log_mark
out=$(timeout 30 $RAW partial "$WORK/app.bin" answer --form --cookie "$token" \
  --no-close-boundary)
grep -q '^HTTP/1.1 400 Bad Request' <<<"$out" || fail "no closing boundary: $(head -n 1 <<<"$out")"
grep -q 'the upload ended before the closing boundary (incomplete body)' <<<"$out" \
  || fail "no closing boundary: no message"
[ "$(sp_slot)" = 0xffffffff ] || fail "after a body without closing boundary the SP slot is $(sp_slot)"

# nothing bootable: a reset stays in IAP mode; then the next upload works
board_reset
board_wait "$HTTP_READY_LINE" 10
log_has "jump to application" && fail "the board jumped to a broken upload"
login "$WORK/jar"
cp "$WORK/flash.bin" "$WORK/before.bin"
log_mark
out=$(hcurl -b "$WORK/jar" -F "datafile=@$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 200 ] || fail "upload after the broken ones: $(status_of "$out")"
check_http_flashed "$WORK/app.bin" "$WORK/before.bin"

# --- TFTP in progress: HTTP answers 409; HTTP in progress: TFTP is busy ----------------------
mkfifo "$WORK/hold"
timeout 60 $RAW tftp-hold "$WORK/app.bin" < "$WORK/hold" > "$WORK/tftp-hold.out" 2>&1 &
holder=$!
exec 7> "$WORK/hold"
for i in $(seq 1 50); do grep -q holding "$WORK/tftp-hold.out" && break; sleep 0.1; done
grep -q holding "$WORK/tftp-hold.out" || fail "tftp-hold did not start: $(cat "$WORK/tftp-hold.out")"
out=$(hcurl -u user:stm32 -T "$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/firmware")
[ "$(status_of "$out")" = 409 ] || fail "PUT during TFTP: status $(status_of "$out")"
[ "$(body_of "$out")" = "{\"ok\":false,\"status\":409,\"error\":\"board busy: a TFTP upload from $HOST_IP is in progress\"}" ] \
  || fail "PUT during TFTP: $(body_of "$out")"
out=$(hcurl -b "$WORK/jar" -F "datafile=@$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 409 ] || fail "form upload during TFTP: status $(status_of "$out")"
grep -q "409 Conflict: board busy: a TFTP upload from $HOST_IP is in progress" <<<"$out" \
  || fail "form upload during TFTP: no message"
exec 7>&-
wait "$holder"

rm -f "$WORK/hold"
mkfifo "$WORK/hold"
timeout 60 $RAW partial "$WORK/app.bin" hold --send 20000 < "$WORK/hold" > "$WORK/http-hold.out" 2>&1 &
holder=$!
exec 7> "$WORK/hold"
for i in $(seq 1 50); do grep -q holding "$WORK/http-hold.out" && break; sleep 0.1; done
board_wait "started (raw, 300000 bytes)" 5
out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$WORK/app.bin" app.bin 2>&1)
grep -q "board busy: a HTTP upload from $HOST_IP:[0-9]* is in progress" <<<"$out" \
  || fail "TFTP during an HTTP upload: '$out'"
exec 7>&-
wait "$holder"
board_wait "aborted after" 10

# --- heads the server refuses ----------------------------------------------------------------
printf 'PUT /firmware HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n' \
  "$BOARD_IP" > "$WORK/smuggle.req"
out=$(timeout 30 $RAW request "$WORK/smuggle.req")
grep -q '^HTTP/1.1 400 Bad Request' <<<"$out" || fail "TE + CL: $(head -n 1 <<<"$out")"
grep -q 'both Transfer-Encoding and Content-Length' <<<"$out" || fail "TE + CL: no reason"

{ printf 'GET / HTTP/1.1\r\nHost: %s\r\n' "$BOARD_IP"
  for i in $(seq 1 90); do printf 'X-Pad-%02d: %090d\r\n' "$i" 0; done
  printf '\r\n'; } > "$WORK/big.req"
out=$(timeout 30 $RAW request "$WORK/big.req")
grep -q '^HTTP/1.1 431 Request Header Fields Too Large' <<<"$out" || fail "9 KiB head: $(head -n 1 <<<"$out")"
{ printf 'GET / HTTP/1.1\r\nHost: %s\r\n' "$BOARD_IP"
  for i in $(seq 1 40); do printf 'X-Pad-%02d: %090d\r\n' "$i" 0; done
  printf '\r\n'; } > "$WORK/4k.req"
out=$(timeout 30 $RAW request "$WORK/4k.req")
grep -q '^HTTP/1.1 200 OK' <<<"$out" || fail "4 KiB head: $(head -n 1 <<<"$out")"

# two Host headers: 400 (RFC 9112 3.2)
printf 'GET / HTTP/1.1\r\nHost: %s\r\nHost: evil.example\r\n\r\n' "$BOARD_IP" > "$WORK/hosts.req"
out=$(timeout 30 $RAW request "$WORK/hosts.req")
grep -q '^HTTP/1.1 400 Bad Request' <<<"$out" || fail "two Hosts: $(head -n 1 <<<"$out")"
grep -q 'more than one Host header (RFC 9112 3.2)' <<<"$out" || fail "two Hosts: no reason"

# --- cross-site requests: 403 with a valid session, nothing written, no reset ---------------
# The board is who the Host header names: 192.168.0.10, or 127.0.0.1:PORT over --user-net.
board_host=${BASE_URL#http://}
board_host=${board_host%%/*}
login "$WORK/jar"
sha=$(flash_sha)
log_mark
out=$(hcurl -b "$WORK/jar" -H 'Origin: http://evil.example' -F "datafile=@$WORK/app.bin" \
  -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 403 ] || fail "cross-site upload: status $(status_of "$out")"
grep -q "403 Forbidden: cross-site request refused: its Origin http://evil.example is not this board ($board_host)" <<<"$out" \
  || fail "cross-site upload: no reason in $out"
out=$(hcurl -b "$WORK/jar" -H 'Referer: http://evil.example/x.html' -d '' -w '\n%{http_code}' \
  "$BASE_URL/resetmcu.cgi")
[ "$(status_of "$out")" = 403 ] || fail "cross-site reset: status $(status_of "$out")"
out=$(hcurl -u user:stm32 -H 'Origin: http://evil.example' -T "$WORK/app.bin" -w '\n%{http_code}' \
  "$BASE_URL/firmware")
[ "$(body_of "$out")" = "{\"ok\":false,\"status\":403,\"error\":\"cross-site request refused: its Origin http://evil.example is not this board ($board_host)\"}" ] \
  || fail "cross-site PUT: $(body_of "$out")"
[ "$(flash_sha)" = "$sha" ] || fail "a cross-site request changed the flash"
log_has "reset requested" && fail "a cross-site request reset the board"
# the same session from the board's own page still works
out=$(hcurl -b "$WORK/jar" -H "Origin: http://$board_host" -F "datafile=@$WORK/app.bin" \
  -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 200 ] || fail "same-origin upload: status $(status_of "$out")"

board_stop
say "ok"
