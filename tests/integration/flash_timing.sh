#!/bin/bash
# Real flash timing in make check, short: tftp-hpa in its default settings uploads a 70000-byte
# image (sector 11 first, for the commit record, then sector 4 whole and into sector 5: a 1 s,
# a 550 ms and a 1 s erase) with --flash-timing typical, unscaled, through both flash drivers;
# the upload lands exactly and the log line that ends it gives the silicon time of its 3
# erases and 17516 word programs (the image's 17500 and the record's 16). While the 1 s
# erases run, /api/status says the flash is busy. (How long uploads take is
# measured, not asserted: see make check-silicon.)
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v jq >/dev/null || hard_error "jq is not installed (scripts/bootstrap.sh deps installs it)"

mkimg app.bin --link 0x08010000 --size 70000 --seed 71
flash_erased flash.bin
for driver in direct stm32; do
  cp flash.bin before.bin
  board_start --flash-timing typical --flash-driver "$driver" --control 127.0.0.1:8069
  log_mark
  timeout 60 tftp -m binary "$BOARD_IP" -c put app.bin app.bin > tftp.out 2>&1 &
  client=$!
  busy=0
  for _ in $(seq 1 100); do
    s=$(timeout 2 curl -sS --max-time 1 http://127.0.0.1:8069/api/status) \
      || fail "GET /api/status did not answer within 1 s during the upload"
    [ "$(jq .flash.busy <<<"$s")" = true ] && busy=$((busy + 1))
    proc_alive "$client" || break
    sleep 0.05
  done
  wait "$client" || fail "$driver: tftp-hpa failed: $(cat tftp.out)"
  [ -s tftp.out ] && fail "$driver: tftp-hpa said: $(cat tftp.out)"
  check_flashed app.bin before.bin
  board_wait "flash: TFTP upload ended: silicon time 2.8 s (typical: 3 sector erases, 17516 program accesses); iapd stalled as long" 5
  [ "$busy" -gt 0 ] || fail "$driver: /api/status never said the flash was busy"
  s=$(timeout 2 curl -sS http://127.0.0.1:8069/api/status)
  [ "$(jq -c '[.flash.timing, .flash.last_upgrade_silicon_ms, .flash.operations_since_power_on, .flash.busy]' <<<"$s")" = '["typical",2830,143,false]' ] \
    || fail "$driver: status after the upload: $(jq -c .flash <<<"$s" | cut -c1-200)"
  board_stop
  say "ok: $driver: 70000 bytes with typical timing; busy seen $busy times; silicon time 2.83 s"
  flash_erased flash.bin
done
