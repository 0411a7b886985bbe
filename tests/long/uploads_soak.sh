#!/bin/bash
# The long run (make check-long): 100 uploads into one running iapd, alternating TFTP
# (tftp-hpa) and HTTP (curl: PUT /firmware and the login + multipart form, in turn), each a
# different image, each compared byte for byte with the flash as iapctl dumps it, and
# between them iapctl resets: without Key (the board must jump to the image), then with Key
# (back to IAP mode). After every round iapd's resident memory (VmRSS) and its open file
# descriptors are sampled: after a warm-up of WARMUP rounds the memory must stay within
# 1 MiB and the descriptors must not change. The samples go to $IAPD_ARTEFACTS/long (the
# build tree's tests/artefacts) for a person to look at.
set -u
. "$TESTS_DIR/integration/lib.sh"
. "$TESTS_DIR/integration/http_lib.sh"
netns_enter "$0" "$@"
ROUNDS=${IAPD_LONG_ROUNDS:-100}
WARMUP=10
RSS_SLACK_KB=1024
ARTEFACTS=${IAPD_ARTEFACTS:-$PWD/tests/artefacts}/long
mkdir -p "$ARTEFACTS" || hard_error "cannot create $ARTEFACTS"
command -v "${IAPCTL:-}" >/dev/null 2>&1 || hard_error "IAPCTL must name iapctl (run make check-long)"
[ "$ROUNDS" -gt $((WARMUP + 1)) ] || hard_error "IAPD_LONG_ROUNDS=$ROUNDS: more than $((WARMUP + 1)) are needed"

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$IAPD_PID/status"; }
fd_count() { ls "/proc/$IAPD_PID/fd" | wc -l; }

flash_erased "$WORK/flash.bin"
board_launch
board_wait "$READY_LINE"
board_wait "$HTTP_READY_LINE"
start=$(date +%s)
printf 'round protocol bytes vmrss_kb fds\n' > "$WORK/samples.txt"
for i in $(seq 1 "$ROUNDS"); do
  size=$((8000 + (i * 7919) % 180000))
  img=$WORK/app.bin
  mkimg "$img" --link 0x08010000 --size "$size" --seed "$i"
  crc=$(crc32_of "$img")
  log_mark
  if [ $((i % 2)) = 1 ]; then
    proto=tftp
    out=$(timeout 60 tftp -m binary "$BOARD_IP" -c put "$img" app.bin 2>&1) \
      || fail "round $i: TFTP upload of $size bytes failed: $out"
    board_wait "flash: TFTP: done, $size bytes at 0x08010000, CRC-32 $crc" 20
  elif [ $((i % 4)) = 0 ]; then
    proto=put
    out=$(hcurl -u user:stm32 -T "$img" -w '\n%{http_code}' "$BASE_URL/firmware")
    [ "$(status_of "$out")" = 200 ] || fail "round $i: PUT of $size bytes: $out"
    board_wait "flash: HTTP: done, $size bytes at 0x08010000, CRC-32 $crc" 20
  else
    proto=form
    login "$WORK/jar"
    out=$(hcurl -b "$WORK/jar" -F "datafile=@$img" -w '\n%{http_code}' "$BASE_URL/upload.cgi")
    [ "$(status_of "$out")" = 200 ] || fail "round $i: form upload of $size bytes: $(status_of "$out")"
    board_wait "flash: HTTP: done, $size bytes at 0x08010000, CRC-32 $crc" 20
  fi
  # byte for byte, as the control server dumps the flash
  "$IAPCTL" dump "$WORK/dump.bin" >/dev/null || fail "round $i: iapctl dump failed"
  cmp -s <(file_region "$WORK/dump.bin" "$USER_FLASH_OFFSET" "$size") "$img" \
    || fail "round $i ($proto): the flash differs from the $size-byte image"
  # the image runs; then back to IAP mode for the next round
  "$IAPCTL" reset >/dev/null || fail "round $i: iapctl reset failed"
  "$IAPCTL" wait jump --timeout 10 >/dev/null || fail "round $i: the board did not run the image"
  log_mark
  "$IAPCTL" reset --key >/dev/null || fail "round $i: iapctl reset --key failed"
  "$IAPCTL" wait iap --timeout 10 >/dev/null || fail "round $i: the board did not come back to IAP mode"
  board_wait "$READY_LINE" 10
  board_wait "$HTTP_READY_LINE" 10
  printf '%d %s %d %d %d\n' "$i" "$proto" "$size" "$(rss_kb)" "$(fd_count)" >> "$WORK/samples.txt"
done
duration=$(($(date +%s) - start))
cp "$WORK/samples.txt" "$ARTEFACTS/samples.txt"

read -r rss_min rss_max fd_min fd_max <<<"$(awk -v w="$WARMUP" 'NR > 1 && $1 > w {
    if (n++ == 0) { rmin = rmax = $4; fmin = fmax = $5 }
    if ($4 < rmin) rmin = $4; if ($4 > rmax) rmax = $4
    if ($5 < fmin) fmin = $5; if ($5 > fmax) fmax = $5 }
  END { print rmin, rmax, fmin, fmax }' "$WORK/samples.txt")"
say "$ROUNDS uploads in $duration s; after $WARMUP rounds: VmRSS $rss_min-$rss_max kB, open fds $fd_min-$fd_max (samples: $ARTEFACTS/samples.txt)"
[ $((rss_max - rss_min)) -le "$RSS_SLACK_KB" ] \
  || fail "iapd's memory grew by $((rss_max - rss_min)) kB after the warm-up (limit $RSS_SLACK_KB kB)"
[ "$fd_min" = "$fd_max" ] || fail "iapd's open file descriptors changed after the warm-up: $fd_min to $fd_max"
board_stop
say "ok"
