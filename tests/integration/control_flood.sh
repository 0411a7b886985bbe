#!/bin/bash
# The control server under a connection flood from 127.0.0.1 (man iapd, CONTROL SERVER): of
# 100 connections opened at once (silent, trickling a head, or not reading /api/flash), at
# most 16 are still open a second later; GET /api/status answers within 3 s every time while
# the flood goes on; two event streams opened before it are still served after it.
set -u
. "$TESTS_DIR/integration/lib.sh"
netns_enter "$0" "$@"
FLOOD="python3 $TESTS_DIR/integration/control_flood.py"

flash_erased "$WORK/flash.bin"
board_start
for i in 1 2; do
  timeout 60 curl -sN --noproxy '*' http://127.0.0.1:8069/api/events > "$WORK/events$i.out" &
done
for _ in $(seq 1 50); do
  grep -q '^event: progress' "$WORK/events1.out" "$WORK/events2.out" 2>/dev/null \
    && [ "$(grep -l '^event: progress' "$WORK"/events*.out | wc -l)" = 2 ] && break
  sleep 0.1
done

out=$(timeout 60 $FLOOD --connections 100 --seconds 6) || fail "control_flood.py failed: $out"
say "flood: $out"
read -r _ opened _ open_after _ ok _ failed _ <<<"$out"
[ "$opened" -ge 100 ] || fail "the flood opened only $opened connections"
[ "$open_after" -le 16 ] || fail "$open_after connections still open after 1 s; the limit is 16"
[ "$failed" = 0 ] || fail "GET /api/status failed $failed times during the flood ($ok answered)"
[ "$ok" -ge 8 ] || fail "only $ok status requests answered during the flood"

# the event streams were not dropped for the flood: they see a reset's lines
log_mark
board_reset
board_wait "tftp: server ready" 10
for i in 1 2; do
  for _ in $(seq 1 50); do grep -q 'reset (SIGUSR2)' "$WORK/events$i.out" && break; sleep 0.1; done
  grep -q 'reset (SIGUSR2)' "$WORK/events$i.out" || fail "event stream $i was dropped during the flood"
done
out=$(timeout 10 curl -s --noproxy '*' -w '\n%{http_code}' http://127.0.0.1:8069/api/status)
[ "${out##*$'\n'}" = 200 ] || fail "status after the flood: ${out##*$'\n'}"
board_stop
say "ok"
