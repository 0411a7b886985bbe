#!/bin/bash
# Slow clients do not lock a real user out (man iapd, HTTP UPLOADS): three clients trickling
# a head and a body a byte a second are answered 408 at their deadlines; and with 33 such
# clients (and silent ones) reconnecting whenever they are dropped, a login, a form upload
# and a PUT with curl still succeed, and the flash holds the image. Before the deadlines and
# the eviction, four such clients took every connection and curl got a reset.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
netns_enter "$0" "$@"
SLOW="python3 $TESTS_DIR/integration/http_slow.py"
CLIENTS=33
FLOOD_S=20

flash_erased "$WORK/flash.bin"
mkimg "$WORK/app.bin" --link 0x08010000 --size 120000 --seed 31
mkimg "$WORK/app2.bin" --link 0x08010000 --size 90000 --seed 32
http_board_start -v

# --- three slow clients, fewer than the connections: the deadlines alone drop them ---------
# A head trickled a byte a second is answered 408 five seconds after its first byte, a body
# as slow ten seconds after its head; the silent one is left to the idle timeout.
log_mark
timeout 40 $SLOW --clients 3 --seconds 14 --interval 1 > "$WORK/slow3.out" 2>&1 \
  || fail "http_slow.py failed: $(cat "$WORK/slow3.out")"
read -r _ opened _ answered _ resets _ refused < "$WORK/slow3.out" \
  || fail "http_slow.py said nothing: $(cat "$WORK/slow3.out")"
say "3 slow clients: $(cat "$WORK/slow3.out")"
[ "$answered" -ge 3 ] || fail "the slow heads and body were not answered 408: $(cat "$WORK/slow3.out")"
[ "$resets" = 0 ] && [ "$refused" = 0 ] \
  || fail "with connections to spare, a slow client was reset or refused: $(cat "$WORK/slow3.out")"
log_has "closing the connection from $HOST_IP:" || fail "no slow client was closed"
grep -q "the request head did not arrive within 5000 ms" <(log_since_mark) \
  || fail "no head deadline in the log"
grep -q "the request body arrived slower than 1024 bytes/s" <(log_since_mark) \
  || fail "no body rate in the log"

# --- the flood ---------------------------------------------------------------------------------
timeout $((FLOOD_S + 30)) $SLOW --clients "$CLIENTS" --seconds "$FLOOD_S" --interval 1 \
  > "$WORK/slow.out" 2>&1 &
flood=$!
# Let the flood take every connection.
log_mark
board_wait "all 4 connections busy" 20
sleep 4

# A user: log in, upload with the form, and a script: PUT. Each must succeed while the flood
# goes on (curl's own limit is generous; the point is that it succeeds, not how fast).
for round in 1 2; do
  img=$WORK/app.bin
  [ "$round" = 2 ] && img=$WORK/app2.bin
  cp "$WORK/flash.bin" "$WORK/before.bin"
  log_mark
  start=$(date +%s.%N)
  login "$WORK/jar"
  out=$(hcurl -b "$WORK/jar" -F "datafile=@$img" -w '\n%{http_code}' "$BASE_URL/upload.cgi" 2>&1) \
    || fail "round $round: the form upload failed under the flood: $out"
  [ "$(status_of "$out")" = 200 ] || fail "round $round: form upload status $(status_of "$out")"
  check_http_flashed "$img" "$WORK/before.bin"
  out=$(hcurl -u user:stm32 -T "$img" -w '\n%{http_code}' "$BASE_URL/firmware" 2>&1) \
    || fail "round $round: PUT failed under the flood: $out"
  [ "$(status_of "$out")" = 200 ] || fail "round $round: PUT status $(status_of "$out")"
  say "round $round: login, form upload and PUT took $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s under $CLIENTS slow clients"
  proc_alive "$flood" || fail "the flood ended before round $round did: $(cat "$WORK/slow.out")"
done

wait "$flood"
read -r _ opened _ answered _ resets _ refused < "$WORK/slow.out" \
  || fail "http_slow.py said nothing: $(cat "$WORK/slow.out")"
say "flood: $(cat "$WORK/slow.out")"
# They took their turns: each was dropped (its place given to a newer one) and came back.
[ "$opened" -gt "$CLIENTS" ] || fail "the slow clients were never dropped: $(cat "$WORK/slow.out")"
board_stop
say "ok"
