#!/bin/bash
# Uploads with the TFTP clients users run (curl, tftp-hpa in binary and netascii mode, atftp,
# busybox), each the way it asks by default and, where it can, asking for options (blksize,
# tsize, windowsize: RFC 2347-2349, 7440). Each result is checked in the flash file byte for
# byte, and on the wire: iapd captures every frame (--pcap) and tftp_pcap.py reads back the
# client's request, the board's answer (the exact OACK, or ACK 0), the DATA sizes and the
# number of ACKs, which must be exactly what the negotiated block and window sizes give. On
# the TAP in a namespace, or over --user-net through one UDP forward where there is none
# (lib.sh net_enter).
#
# Sizes: odd ones (9, 1001, 70001), exact multiples of the block size (512, 4096, 65536; 1428,
# 71400: the transfer ends with an empty DATA block), and 200000 bytes, across sectors 4, 5
# and 6. The uploads go from large to small, so every one lands on flash full of the previous
# image: the 0xFF after it proves its last sector was erased, and the untouched sectors past
# it prove nothing more was. Images hold random bytes, CR, LF and NUL among them, which
# netascii must carry exactly. At the end the board restarts with lower limits
# (--tftp-max-blksize, --tftp-max-windowsize) and must answer with them.
set -u
# shellcheck source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"

PCAP=$WORK/cap.pcap

# upload CLIENT IMAGE: sends IMAGE as "app.bin" with CLIENT; the client must succeed.
upload() {
  local client=$1 img=$2 out rc
  case "$client" in
    curl)
      # curl asks for tsize, blksize 512 and a timeout unless told otherwise.
      out=$(timeout 30 curl -sS --max-time 25 -T "$img" "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1) ;;
    curl-1428)
      out=$(timeout 30 curl -sS --max-time 25 --tftp-blksize 1428 -T "$img" \
        "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1) ;;
    curl-max)
      out=$(timeout 30 curl -sS --max-time 25 --tftp-blksize 65464 -T "$img" \
        "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1) ;;
    curl-plain)
      out=$(timeout 30 curl -sS --max-time 25 --tftp-no-options -T "$img" \
        "tftp://$TFTP_HOST:$TFTP_PORT/app.bin" 2>&1) ;;
    tftp-binary)
      out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put "$img" app.bin 2>&1) ;;
    tftp-netascii)
      # tftp-hpa's default mode is netascii: LF goes out as CR LF, CR as CR NUL.
      out=$(timeout 30 tftp "$TFTP_HOST" "$TFTP_PORT" -c put "$img" app.bin 2>&1) ;;
    atftp)
      out=$(timeout 30 atftp -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
    atftp-window)
      out=$(timeout 30 atftp --option "blksize 1428" --option "windowsize 16" \
        --option "tsize enable" -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
    atftp-big)
      out=$(timeout 30 atftp --option "blksize 8192" --option "windowsize 200" \
        -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
    busybox)
      out=$(timeout 30 busybox tftp -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
    busybox-1428)
      out=$(timeout 30 busybox tftp -b 1428 -p -l "$img" -r app.bin "$TFTP_HOST" "$TFTP_PORT" 2>&1) ;;
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

# request_options CLIENT SIZE: the options CLIENT puts in its WRQ ("name=value,..."), "-" for
# none. curl's timeout is its --max-time over 5 (25 s here).
request_options() {
  case "$1" in
    curl) echo "tsize=$2,blksize=512,timeout=5" ;;
    curl-1428) echo "tsize=$2,blksize=1428,timeout=5" ;;
    curl-max) echo "tsize=$2,blksize=65464,timeout=5" ;;
    atftp-window) echo "tsize=$2,blksize=1428,windowsize=16" ;;
    atftp-big) echo "blksize=8192,windowsize=200" ;;
    busybox) echo "tsize=$2" ;;
    busybox-1428) echo "blksize=1428,tsize=$2" ;;
    *) echo "-" ;;
  esac
}

# accepted OPTIONS: what the board's OACK must say to them, with limits MAX_BLKSIZE and
# MAX_WINDOWSIZE: each option, the same order, blksize and windowsize capped.
accepted() {
  local out="" pair name value
  [ "$1" = "-" ] && { echo "-"; return; }
  IFS=, read -ra pairs <<< "$1"
  for pair in "${pairs[@]}"; do
    name=${pair%%=*}
    value=${pair#*=}
    case "$name" in
      blksize) [ "$value" -gt "$MAX_BLKSIZE" ] && value=$MAX_BLKSIZE ;;
      windowsize) [ "$value" -gt "$MAX_WINDOWSIZE" ] && value=$MAX_WINDOWSIZE ;;
    esac
    out="$out${out:+,}$name=$value"
  done
  echo "$out"
}

# option_value OPTIONS NAME DEFAULT
option_value() {
  local v
  v=$(tr ',' '\n' <<< "$1" | sed -n "s/^$2=//p")
  echo "${v:-$3}"
}

# expected_wire CLIENT SIZE WIRE_SIZE: the line tftp_pcap.py must print for this upload.
# WIRE_SIZE is the number of bytes the client sends (netascii makes more of the image's).
expected_wire() {
  local client=$1 wire=$3 req oack answer blksize window blocks rest sizes acks
  req=$(request_options "$client" "$2")
  oack=$(accepted "$req")
  if [ "$oack" = "-" ]; then answer=ACK0; else answer="OACK:$oack"; fi
  blksize=$(option_value "$oack" blksize 512)
  window=$(option_value "$oack" windowsize 1)
  blocks=$((wire / blksize + 1))          # the last one short, maybe empty
  rest=$((wire % blksize))
  sizes=""
  [ $((blocks - 1)) -gt 0 ] && sizes="$blksize*$((blocks - 1)),"
  sizes="$sizes$rest*1"
  acks=$(( (blocks + window - 1) / window ))   # one per window; the last block ends one
  echo "wrq=$req answer=$answer data=$blocks sizes=$sizes acks=$acks errors=0 other=0"
}

# expected_start CLIENT SIZE: what iapd logs after "transfer started from HOST:PORT: ".
expected_start() {
  local mode=octet oack text=""
  case "$1" in tftp-netascii) mode=netascii ;; esac
  oack=$(accepted "$(request_options "$1" "$2")")
  case "$oack" in *tsize=*) ;; *) text=", size not announced" ;; esac
  [ "$oack" = "-" ] || text="$text, OACK $(sed 's/=/ /g; s/,/, /g' <<< "$oack")"
  echo "\"app.bin\", $mode mode$text"
}

# netascii_size FILE: bytes on the wire in netascii (LF and CR take two each).
netascii_size() {
  python3 -c 'import sys; d = open(sys.argv[1], "rb").read()
print(len(d) + d.count(b"\n") + d.count(b"\r"))' "$1"
}

# run_case CLIENT SIZE SEED
run_case() {
  local client=$1 size=$2 seed=$3 img="$WORK/app-$2-$3.bin" start end line port wire want got
  mkimg "$img" --link 0x08010000 --size "$size" --seed "$seed"
  cp "$WORK/flash.bin" "$WORK/before.bin"
  log_mark
  start=$(date +%s%N)
  upload "$client" "$img"
  end=$(date +%s%N)
  check_flashed "$img" "$WORK/before.bin"
  want=$(expected_start "$client" "$size")
  line=$(log_since_mark | grep -E "iapd: tftp: transfer started from ${HOST_IP//./\\.}:[0-9]+: ")
  [ "${line#*: tftp: transfer started from $HOST_IP:*: }" = "$want" ] \
    || fail "$client: expected 'transfer started from $HOST_IP:PORT: $want', got: $line"
  port=$(sed -nE "s/.*transfer started from ${HOST_IP//./\\.}:([0-9]+): .*/\1/p" <<< "$line")
  wire=$size
  [ "$client" = tftp-netascii ] && wire=$(netascii_size "$img")
  want=$(expected_wire "$client" "$size" "$wire")
  got=$(python3 "$TESTS_DIR/integration/tftp_pcap.py" "$PCAP" "$port") \
    || fail "$client: tftp_pcap.py could not read the capture: $got"
  [ "$got" = "$want" ] || fail "$client, $size bytes, on the wire:
  expected $want
  got      $got"
  say "ok: $client, $size bytes, CRC-32 $(crc32_of "$img"), ${got%% data=*} ($(( (end - start) / 1000000 )) ms)"
}

flash_erased "$WORK/flash.bin"
MAX_BLKSIZE=1468
MAX_WINDOWSIZE=64
board_start --pcap "$PCAP"

# Largest first (see the top of the file). Each client sees an odd size and a block multiple.
run_case curl          200000 11   # sectors 4, 5 and 6; tsize, blksize 512, timeout 5
run_case atftp-window  200000 29   # blksize 1428, windows of 16: 141 blocks, 9 ACKs
run_case curl-1428      71400 30   # 50 blocks of 1428, then an empty one
run_case tftp-netascii  70001 12   # sectors 4 and 5, netascii
run_case tftp-binary    70001 13
run_case atftp-big      70001 31   # asks blksize 8192, windowsize 200: OACK 1468, 64
run_case atftp          65536 14   # fills sector 4 exactly: sector 5 keeps the old bytes
run_case curl           65536 15
run_case curl-plain     65536 32   # --tftp-no-options: RFC 1350, ACK 0
run_case busybox-1428   65536 33
run_case busybox         4096 16
run_case tftp-netascii   4096 17
run_case curl-max        4096 34   # asks blksize 65464: OACK 1468
run_case busybox-1428    1428 35   # one full block, then an empty one
run_case atftp           1001 18
run_case tftp-netascii   1001 19
run_case busybox         1001 20
run_case atftp-window    1001 36   # one short block: the first window ends at once
run_case curl             512 21   # one full block, then an empty one
run_case tftp-binary      512 22
run_case busybox          512 23
run_case atftp              9 24   # the smallest image that can run: SP, reset, one byte
run_case tftp-netascii      9 25
run_case curl               9 26
run_case busybox            9 27
run_case tftp-binary        9 28
run_case atftp-window       9 37

# Everything above went to one running board: it served 27 transfers and still exits cleanly.
board_stop

# Lower limits: the same requests get the smaller block and window. The Key held: the
# flash holds an application now.
MAX_BLKSIZE=512
MAX_WINDOWSIZE=4
board_start --key --pcap "$PCAP" --tftp-max-blksize 512 --tftp-max-windowsize 4
run_case atftp-window  100000 40   # OACK blksize 512, windowsize 4: 196 blocks, 49 ACKs
run_case curl-1428      50000 41   # OACK blksize 512
run_case busybox         5000 42   # tsize only: not limited
board_stop
exit 0
