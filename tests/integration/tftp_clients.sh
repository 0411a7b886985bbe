#!/bin/bash
# Uploads with the TFTP clients users run (curl, tftp-hpa in binary and netascii mode, atftp,
# busybox) and checks each result in the flash file byte for byte. On the TAP in a namespace,
# or over --user-net through one UDP forward where there is none (lib.sh net_enter).
#
# Sizes: odd ones (9, 1001, 70001), exact multiples of 512 (512, 4096, 65536: the transfer
# ends with an empty DATA block), and 200000 bytes, across sectors 4, 5 and 6. The uploads go
# from large to small, so every one lands on flash full of the previous image: the 0xFF after
# it proves its last sector was erased, and the untouched sectors past it prove nothing more
# was. Images hold random bytes, CR, LF and NUL among them, which netascii must carry exactly.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"

# upload CLIENT IMAGE: sends IMAGE as "app.bin" with CLIENT; the client must succeed.
upload() {
  local client=$1 img=$2 out rc
  case "$client" in
    curl)
      out=$(timeout 30 curl -sS --max-time 25 -T "$img" "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1) ;;
    tftp-binary)
      out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$img" app.bin 2>&1) ;;
    tftp-netascii)
      # tftp-hpa's default mode is netascii: LF goes out as CR LF, CR as CR NUL.
      out=$(timeout 30 tftp "$TFTP_HOST" "$TFTP_PORT" -c put "$img" app.bin 2>&1) ;;
    atftp)
      out=$(timeout 30 atftp -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
    busybox)
      out=$(timeout 30 busybox tftp -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
    *)
      hard_error "unknown client $client" ;;
  esac
  rc=$?
  [ "$rc" -eq 0 ] || fail "$client upload of $(basename "$img") exited $rc: $out"
  # tftp-hpa reports server errors on stderr but may still exit 0.
  case "$out" in
    *rror*|*imeout*|*imed\ out*) fail "$client upload of $(basename "$img") reported: $out" ;;
  esac
}

# What the server must have seen of each client's request: the mode, and whether the client
# announced the size (tsize, RFC 2349: curl and busybox do, in octet mode).
expected_request() {
  case "$1" in
    curl|busybox) echo '"app.bin", octet mode' ;;
    tftp-binary|atftp) echo '"app.bin", octet mode, size not announced' ;;
    tftp-netascii) echo '"app.bin", netascii mode, size not announced' ;;
  esac
}

# run_case CLIENT SIZE SEED
run_case() {
  local client=$1 size=$2 seed=$3 img="$WORK/app-$2-$3.bin" start end req
  mkimg "$img" --link 0x08010000 --size "$size" --seed "$seed"
  cp "$WORK/flash.bin" "$WORK/before.bin"
  log_mark
  start=$(date +%s%N)
  upload "$client" "$img"
  check_flashed "$img" "$WORK/before.bin"
  req=$(expected_request "$client")
  log_since_mark | grep -qxE "iapd: tftp: transfer started from ${HOST_IP//./\\.}:[0-9]+: ${req//./\\.}" \
    || fail "$client: expected 'transfer started from $HOST_IP:PORT: $req', got: $(log_since_mark | grep 'transfer started')"
  end=$(date +%s%N)
  say "ok: $client, $size bytes, CRC-32 $(crc32_of "$img") ($(( (end - start) / 1000000 )) ms)"
}

flash_erased "$WORK/flash.bin"
board_start

# Largest first (see the top of the file). Each client sees an odd size and a 512 multiple.
run_case curl          200000 11   # sectors 4, 5 and 6; curl sends tsize and blksize
run_case tftp-netascii  70001 12   # sectors 4 and 5, netascii
run_case tftp-binary    70001 13
run_case atftp          65536 14   # fills sector 4 exactly: sector 5 keeps the old bytes
run_case curl           65536 15
run_case busybox         4096 16
run_case tftp-netascii   4096 17
run_case atftp           1001 18
run_case tftp-netascii   1001 19
run_case busybox         1001 20
run_case curl             512 21   # one full block, then an empty one
run_case tftp-binary      512 22
run_case busybox          512 23
run_case atftp              9 24   # the smallest image that can run: SP, reset, one byte
run_case tftp-netascii      9 25
run_case curl               9 26
run_case busybox            9 27
run_case tftp-binary        9 28

# Everything above went to one running board: it served 18 transfers and still exits cleanly.
board_stop
exit 0
