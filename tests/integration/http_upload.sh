#!/bin/bash
# HTTP IAP the way AN3376 section 4.3 steps 8-13 do it, with curl: the login page, a login
# with a session cookie, the upload form (-F datafile=@...), the done page with size and
# CRC-32, RESET MCU, and the jump to the new application. Then the session rules: wrong
# credentials, no session, logout.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
net_enter "$0" "$@"

flash_erased "$WORK/flash.bin"
mkimg "$WORK/app.bin" --link 0x08010000 --size 70001 --seed 7
http_board_start

# Step 8: the login page.
out=$(hcurl -w '\n%{http_code}' "$BASE_URL/") || fail "GET / failed"
[ "$(status_of "$out")" = 200 ] || fail "GET /: status $(status_of "$out")"
grep -q '<form action="/checklogin.cgi" method="post">' <<<"$out" || fail "GET /: no login form"
grep -q 'name="username"' <<<"$out" && grep -q 'name="password"' <<<"$out" \
  || fail "GET /: no User ID / Password fields"

# Wrong credentials: the login page again, 403, no cookie.
out=$(hcurl -c "$WORK/bad.jar" -d username=user -d password=stm33 -w '\n%{http_code}' \
  "$BASE_URL/checklogin.cgi")
[ "$(status_of "$out")" = 403 ] || fail "wrong password: status $(status_of "$out"), expected 403"
grep -q 'Wrong user ID or password.' <<<"$out" || fail "wrong password: no message"
grep -q iapd_session "$WORK/bad.jar" && fail "wrong password: a session cookie was set"

# No session: the upload is refused before anything is erased.
log_mark
out=$(hcurl -F "datafile=@$WORK/app.bin" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 403 ] || fail "upload without session: status $(status_of "$out")"
grep -q 'Please log in first' <<<"$out" || fail "upload without session: no message"
all_ff "$USER_FLASH_OFFSET" 0x10000 || fail "upload without session changed the flash"
log_has "refused: no session" || fail "no 'refused: no session' in the log"

# Someone else's (made up) session does not help either.
out=$(hcurl -b "iapd_session=0123456789abcdef0123456789abcdef" -F "datafile=@$WORK/app.bin" \
  -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 403 ] || fail "upload with a made-up session: status $(status_of "$out")"

# Step 9: log in; step 10: upload.
login "$WORK/jar"
out=$(hcurl -b "$WORK/jar" -w '\n%{http_code}' "$BASE_URL/upload.html")
[ "$(status_of "$out")" = 200 ] || fail "GET /upload.html with the session: $(status_of "$out")"
grep -q 'Images up to 982912 bytes (959 KiB) fit the user flash at 0x08010000.' <<<"$out" \
  || fail "the upload page does not say the limit"

cp "$WORK/flash.bin" "$WORK/before.bin"
log_mark
out=$(hcurl -b "$WORK/jar" -F "datafile=@$WORK/app.bin" -w '\n%{http_code}' \
  "$BASE_URL/upload.cgi") || fail "upload: curl failed"
[ "$(status_of "$out")" = 200 ] || fail "upload: status $(status_of "$out")"
# Step 12: the done page, with size and CRC-32, and the RESET MCU button.
crc=$(crc32_of "$WORK/app.bin")
grep -q "70001 bytes written at 0x08010000, CRC-32 $crc." <<<"$out" \
  || fail "done page without '70001 bytes written at 0x08010000, CRC-32 $crc.'"
grep -q '<form action="/resetmcu.cgi" method="post">' <<<"$out" || fail "no RESET MCU form"
grep -q '>RESET MCU<' <<<"$out" || fail "no RESET MCU button"
check_http_flashed "$WORK/app.bin" "$WORK/before.bin"

# A second, larger upload over the first (more than 1 MiB of body makes curl send
# Expect: 100-continue; here a 300 KiB image, forced to expect it).
mkimg "$WORK/app2.bin" --link 0x08010000 --size 300000 --seed 8
cp "$WORK/flash.bin" "$WORK/before.bin"
log_mark
out=$(hcurl -b "$WORK/jar" -H 'Expect: 100-continue' -F "datafile=@$WORK/app2.bin" \
  -w '\n%{http_code}' "$BASE_URL/upload.cgi")
[ "$(status_of "$out")" = 200 ] || fail "upload with 100-continue: status $(status_of "$out")"
check_http_flashed "$WORK/app2.bin" "$WORK/before.bin"

# RESET MCU needs the session.
out=$(hcurl -X POST -w '\n%{http_code}' "$BASE_URL/resetmcu.cgi")
[ "$(status_of "$out")" = 403 ] || fail "reset without session: status $(status_of "$out")"
log_has "jump to application" && fail "reset without session reset the board"

# Step 13: RESET MCU: the page, then a reset without Key and the jump to the new app.
log_mark
out=$(hcurl -b "$WORK/jar" -X POST -w '\n%{http_code}' "$BASE_URL/resetmcu.cgi")
[ "$(status_of "$out")" = 200 ] || fail "reset: status $(status_of "$out")"
grep -q 'Resetting the board.' <<<"$out" || fail "reset: no reset page"
board_wait "board: reset (RESET MCU on the HTTP page)" 5
pc=$(word_at "$WORK/app2.bin" 4)
board_wait "boot: jump to application: MSP=0x20020000 PC=$pc" 5
board_wait "application running" 5

# Back to IAP mode with the Key: the old session is gone (the board was reset).
board_reset key
board_wait "$HTTP_READY_LINE" 10
out=$(hcurl -b "$WORK/jar" -w '\n%{http_code}' "$BASE_URL/upload.html")
[ "$(status_of "$out")" = 403 ] || fail "the session survived a reset: $(status_of "$out")"

# Logout ends the session.
login "$WORK/jar"
token=$(awk '/iapd_session/ {print $7}' "$WORK/jar")
out=$(hcurl -b "$WORK/jar" -X POST -D "$WORK/logout.head" -w '\n%{http_code}' \
  "$BASE_URL/logout.cgi")
grep -q 'You are logged out.' <<<"$out" || fail "logout: no message"
grep -q '^Set-Cookie: iapd_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict' \
  "$WORK/logout.head" || fail "logout: the cookie is not cleared"
out=$(hcurl -b "iapd_session=$token" -w '\n%{http_code}' "$BASE_URL/upload.html")
[ "$(status_of "$out")" = 403 ] || fail "after logout: $(status_of "$out")"

board_stop
say "ok"
