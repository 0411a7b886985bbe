#!/bin/sh
# The bootloader ELFs of `make firmware` booted on an emulated Cortex-M4: QEMU's netduinoplus2
# (an STM32F405: the STM32F407's core, flash and SRAM map and USARTs, without the Ethernet
# MAC). USART3, the bootloader's log, goes to a file (QEMU wires -serial in USART order:
# USART1, USART2, USART3), and each run's log is compared line by line:
#
#  1. every configuration of the size report (FW/size/NAME/iapd-boot-qemu.bin: the row's
#     objects linked with lwIP's memory in RAM that QEMU has, as it has no CCM): IAP mode, since QEMU models
#     no GPIO and PG15 reads 0, "Key held"; with IAP_LOG the exact lines up to the failed
#     PHY probe (QEMU has no ETH and no MDIO: PHYIDR1 reads 0) and the stack's high-water
#     mark, which is kept in FW/size/NAME/stack.txt for the size report; without IAP_LOG,
#     not one byte;
#  2. the builds of FW/qemu/NAME/ (-DBOARD_KEY_FORCE=0: the Key read as released): with no
#     application (QEMU's flash reads 0: an invalid vector table) the log says why the board
#     stays in IAP mode; with the hello application loaded at the build's user flash and its
#     commit record at 0x080fff80 (the `integrity` policy, the default, boots nothing without
#     one; `signature` wants it signed) the bootloader jumps, and the application's own line
#     follows; with a record whose SHA-256 is another image's, or an unsigned image under
#     `signature`, it stays in IAP mode and says so (the rows with AN3376's check, vectors,
#     read no record: they jump); the deepest stack mark of these runs, reached by a boot
#     check that refused an image, is kept in FW/qemu/NAME/stack.txt for the size report;
#  3. FW/fault-N/: faults at boot, an lwIP assertion and a bus fault; the fault handler logs
#     the faulting address, and for the assertion addr2line must place it in lwIP's pbuf.c.
#
#   qemu_boot.sh FW     (FW: the firmware output directory, fw/ in the build directory)
#
# Every image is the one flash holds: the stub that unpacks the program into SRAM
# (firmware/unpack_stub.c), then the packed program; each run unpacks it first.
#
# Each run stops as soon as the expected lines are there, or after RUN_TIMEOUT seconds.
# Exit 0 when every run matched, 1 otherwise; 77 (skip) without qemu-system-arm.
set -u
fw=${1:?usage: qemu_boot.sh FW}
RUN_TIMEOUT=${RUN_TIMEOUT:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v qemu-system-arm >/dev/null 2>&1 || { echo "qemu_boot: SKIP: no qemu-system-arm"; exit 77; }

failed=0
runs=0
start=$(date +%s)

# run NAME BIN WANT [LOADER-ARGS...]: boots BIN (the bootloader's .bin, loaded at 0x08000000:
# its ELF's data segment would overlap the user flash for QEMU), compares USART3's lines with the file WANT
# (lines starting with "~" are extended regular expressions); the log is left in $tmp/NAME.log.
run() {
  run_name=$1 bin=$2 want=$3
  shift 3
  log=$tmp/$run_name.log
  : >"$log"
  qemu-system-arm -M netduinoplus2 -display none -monitor none -serial null -serial null \
    -serial "file:$log" -device "loader,file=$bin,addr=0x08000000,force-raw=on" "$@" \
    </dev/null >"$tmp/$run_name.qemu" 2>&1 &
  pid=$!
  lines=$(wc -l <"$want")
  t=0
  # A log that should stay empty: the bootloader gets 2 s to say something (it is in IAP
  # mode, or in the application, after some 0.3 s).
  [ "$lines" -eq 0 ] && t=$((RUN_TIMEOUT * 10 - 20))
  while [ "$t" -lt $((RUN_TIMEOUT * 10)) ]; do
    [ "$lines" -gt 0 ] && [ "$(tr -d '\r' <"$log" | wc -l)" -ge "$lines" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    t=$((t + 1))
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  runs=$((runs + 1))
  tr -d '\r' <"$log" >"$log.txt"
  ok=yes
  if [ "$(wc -l <"$log.txt")" -ne "$lines" ]; then
    ok=no
  else
    i=0
    while IFS= read -r w; do
      i=$((i + 1))
      got=$(sed -n "${i}p" "$log.txt")
      case $w in
        "~"*) printf '%s\n' "$got" | grep -Eqx -- "${w#\~}" || ok=no ;;
        *) [ "$got" = "$w" ] || ok=no ;;
      esac
    done <"$want"
  fi
  if [ "$ok" = yes ]; then
    echo "PASS: qemu $run_name"
  else
    echo "FAIL: qemu $run_name: USART3 said:"
    sed 's/^/    | /' "$log.txt"
    echo "  expected:"
    sed 's/^/    | /' "$want"
    [ -s "$tmp/$run_name.qemu" ] && sed 's/^/    qemu: /' "$tmp/$run_name.qemu"
    failed=$((failed + 1))
  fi
}

stack_of() {   # "USED TOTAL" from a run's stack line, or nothing
  sed -n 's/^board: stack: \([0-9]*\) of \([0-9]*\) bytes used.*/\1 \2/p' "$tmp/$1.log.txt"
}

iap_lines() {   # the log of IAP mode with no PHY, for reason $1
  cat <<EOF2
board: power on, 16 MHz (PLL did not lock: HSI)
boot: IAP mode ($1)
net: error: no DP83848 at MDIO address 1 (PHYIDR1 0x0000, expected 0x2000)
net: error: no network: IAP mode cannot be reached over Ethernet
~board: stack: [0-9]+ of [0-9]+ bytes used \(high-water mark\)
EOF2
}

# same_but_ccm DIR: the program QEMU boots (iapd-boot-qemu-sram.bin) must be the shipped one
# (iapd-boot-sram.bin) but for the words that hold an address in CCM (0x10000000-0x1000ffff),
# each moved by 0x10020000 to QEMU's stand-in at 0x20020000: same length, same code.
same_but_ccm() {
  python3 - "$1/iapd-boot-sram.bin" "$1/iapd-boot-qemu-sram.bin" <<'PY'
import struct, sys
a, b = (open(f, "rb").read() for f in sys.argv[1:3])
if len(a) != len(b) or len(a) % 4:
    sys.exit("lengths %d and %d" % (len(a), len(b)))
moved = 0
for i in range(0, len(a), 4):
    x, y = struct.unpack_from("<I", a, i)[0], struct.unpack_from("<I", b, i)[0]
    if x == y:
        continue
    if not (0x10000000 <= x < 0x10010000 and y == x + 0x10020000):
        sys.exit("offset 0x%x: 0x%08x in the shipped program, 0x%08x in QEMU's" % (i, x, y))
    moved += 1
if moved == 0:
    sys.exit("no CCM address differs: is lwIP's memory in CCM?")
print(moved)
PY
}

# 1. Every configuration of the size report, Key held: the row's objects linked with lwIP's
#    memory where QEMU has RAM (iapd-boot-qemu.bin; QEMU has no CCM, firmware/README.md),
#    checked first to differ from the shipped program in those addresses only.
found=0
for dir in "$fw"/size/*/; do
  name=$(basename "$dir")
  [ -f "$dir/iapd-boot.bin" ] || continue
  found=$((found + 1))
  if [ ! -f "$dir/iapd-boot-qemu.bin" ]; then
    echo "FAIL: qemu $name: no $dir/iapd-boot-qemu.bin (make check-firmware builds it)"
    failed=$((failed + 1))
    continue
  fi
  if moved=$(same_but_ccm "$dir" 2>&1); then
    echo "PASS: qemu $name: QEMU's program is the shipped one but for $moved CCM addresses"
  else
    echo "FAIL: qemu $name: QEMU's program differs from the shipped one: $moved"
    failed=$((failed + 1))
  fi
  case $name in
    *log*|integrity*|dual|swap|signature*) iap_lines "Key button held" >"$tmp/want" ;;
    *) : >"$tmp/want" ;;
  esac
  run "$name" "$dir/iapd-boot-qemu.bin" "$tmp/want"
  stack=$(stack_of "$name")
  if [ -n "$stack" ]; then echo "$stack" >"$dir/stack.txt"; else rm -f "$dir/stack.txt"; fi
done
[ "$found" -gt 0 ] || { echo "FAIL: no $fw/size/*/iapd-boot.bin: run make firmware first"; exit 1; }

# 1b. The other packer: tftp-log packed as LZ4 (PACKER=lz4, FW/lz4/) unpacks and runs as
#     its row does.
if [ -f "$fw/lz4/iapd-boot.bin" ]; then
  iap_lines "Key button held" >"$tmp/want"
  run packer-lz4-tftp-log "$fw/lz4/iapd-boot.bin" "$tmp/want"
else
  echo "FAIL: qemu packer-lz4: no $fw/lz4/iapd-boot.bin (make check-firmware builds it)"
  failed=$((failed + 1))
fi

# 2. The Key released: no application, then the application with its commit record
#    (src/image_record.h) in the last 128 bytes of the flash, then with a record of the same
#    length whose SHA-256 is not the image's. Each build boots the hello application linked
#    at its own user flash (FW/qemu/NAME/hello-app.bin); the signature build boots it signed
#    by the tests' key (iapd-image sign, $IAPD_IMAGE and $SIGNING_KEY), and refuses it
#    unsigned.
record() {   # record FILE IMAGE-LEN BASE OUT [flip]: FILE's record, sequence 1
  python3 - "$@" <<'PY'
import hashlib, struct, sys, zlib
f = open(sys.argv[1], "rb").read()
n, base = int(sys.argv[2]), int(sys.argv[3], 16)
digest = bytearray(hashlib.sha256(f[:n]).digest())
if len(sys.argv) > 5:
    digest[0] ^= 1
rec = struct.pack("<IHHIIII", 0x52504149, 1, 64, base, n, len(f) - n, 1) + bytes(digest)
rec += struct.pack("<I", zlib.crc32(rec)) + b"CMMT"
open(sys.argv[4], "wb").write(rec)
PY
}
for dir in "$fw"/qemu/*/; do
  name=$(basename "$dir")
  bin=$dir/iapd-boot.bin
  [ -f "$bin" ] || continue
  app=$dir/hello-app.bin
  [ -f "$app" ] || app=$fw/hello-app.bin
  elf=${app%.bin}.elf
  pc=$(arm-none-eabi-nm "$elf" 2>/dev/null | sed -n 's/^\([0-9a-f]*\) T Reset_Handler$/\1/p')
  pc=$(printf '0x%08x' $((0x$pc | 1)))
  base=$(printf '0x%08x' $((pc & ~0xffff)))
  app_size=$(wc -c <"$app")
  file=$app
  case $name in
    signature*)
      [ -x "${IAPD_IMAGE:-}" ] && [ -f "${SIGNING_KEY:-}" ] \
        || { echo "FAIL: qemu $name: IAPD_IMAGE and SIGNING_KEY must name iapd-image and the tests' key"; failed=$((failed + 1)); continue; }
      "$IAPD_IMAGE" sign --key "$SIGNING_KEY" "$app" "$tmp/$name.signed" >/dev/null \
        || { echo "FAIL: qemu $name: iapd-image sign failed"; failed=$((failed + 1)); continue; }
      file=$tmp/$name.signed ;;
  esac
  # The primary slot's record: the last 128 bytes of the flash, or in the swap layout 256
  # bytes before the end of sector 7 (src/iap_swap.h).
  recaddr=0x080fff80
  [ "$name" = swap ] && recaddr=0x0807ff00
  record "$file" "$app_size" "$base" "$tmp/$name.rec" || { echo "FAIL: cannot write a record"; exit 1; }
  record "$file" "$app_size" "$base" "$tmp/$name.bad.rec" flip || exit 1
  case $name in
    *log*|integrity*|dual|swap|signature*)
      iap_lines "invalid application" | sed '2i\
boot: warning: cannot start the application: not an application image: initial stack pointer 0x00000000 is not a word-aligned address in SRAM (0x20000000-0x20020000) or CCM RAM (0x10000000-0x10010000)' >"$tmp/want"
      printf '%s\n' "board: power on, 16 MHz (PLL did not lock: HSI)" \
        "boot: jump to application: MSP=0x20020000 PC=$pc" \
        "app: hello from $base" >"$tmp/want-app"
      case $name in
        integrity*|dual|swap|signature*)
          iap_lines "image integrity: SHA-256 mismatch at $base, $app_size bytes" >"$tmp/want-bad" ;;
        *)  # AN3376's check (the size report's rows without a policy): no record is read
          cp "$tmp/want-app" "$tmp/want-bad" ;;
      esac ;;
    *)
      : >"$tmp/want"
      printf '%s\n' "app: hello from $base" >"$tmp/want-app"
      case $name in
        integrity*|dual|swap|signature*) : >"$tmp/want-bad" ;;
        *) cp "$tmp/want-app" "$tmp/want-bad" ;;  # AN3376's check: no record is read
      esac ;;
  esac
  run "$name-key-released-no-app" "$bin" "$tmp/want"
  run "$name-key-released-app" "$bin" "$tmp/want-app" \
    -device "loader,file=$file,addr=$base,force-raw=on" \
    -device "loader,file=$tmp/$name.rec,addr=$recaddr,force-raw=on"
  run "$name-key-released-app-bad-record" "$bin" "$tmp/want-bad" \
    -device "loader,file=$file,addr=$base,force-raw=on" \
    -device "loader,file=$tmp/$name.bad.rec,addr=$recaddr,force-raw=on"
  if [ "${name#signature}" != "$name" ]; then
    # The same application unsigned, with a valid record of it: the hash matches, the
    # signature is missing.
    record "$app" "$app_size" "$base" "$tmp/$name.unsigned.rec" || exit 1
    iap_lines "image signature: not signed (no signature trailer after the $app_size-byte image at $base)" >"$tmp/want-unsigned"
    run "$name-key-released-app-unsigned" "$bin" "$tmp/want-unsigned" \
      -device "loader,file=$app,addr=$base,force-raw=on" \
      -device "loader,file=$tmp/$name.unsigned.rec,addr=0x080fff80,force-raw=on"
    # Signed, one bit of the signature's r changed: the hash still matches, the ECDSA
    # verification on the chip must fail.
    python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2]) + 60] ^= 1; open(sys.argv[3], "wb").write(b)' \
      "$file" "$app_size" "$tmp/$name.tampered" || exit 1
    record "$tmp/$name.tampered" "$app_size" "$base" "$tmp/$name.tampered.rec" || exit 1
    key_id=$("$IAPD_IMAGE" info "$file" | sed -n 's/^  key id: *//p')
    iap_lines "image signature: ECDSA P-256 signature does not verify (key id $key_id)" >"$tmp/want-tampered"
    run "$name-key-released-app-bad-signature" "$bin" "$tmp/want-tampered" \
      -device "loader,file=$tmp/$name.tampered,addr=$base,force-raw=on" \
      -device "loader,file=$tmp/$name.tampered.rec,addr=0x080fff80,force-raw=on"
  fi
  # The deepest stack of these runs, for the size report: the ones that refuse an image
  # have run the boot's checks (the signature's ECDSA the deepest) before IAP mode.
  deepest=
  for l in "$tmp/$name"-key-released-*.log.txt; do
    r=${l#"$tmp/"}
    s=$(stack_of "${r%.log.txt}")
    [ -n "$s" ] && { [ -z "$deepest" ] || [ "${s%% *}" -gt "${deepest%% *}" ]; } && deepest=$s
  done
  if [ -n "$deepest" ]; then echo "$deepest" >"$dir/stack.txt"; else rm -f "$dir/stack.txt"; fi
done

# 3. Faults: FW/fault-1/ and FW/fault-2/ are tftp-log faulting right after the power-on line
#    (BOARD_FAULT_AT_BOOT). In fault-1 lwIP fails an assertion (pbuf_free(NULL)): the handler
#    must log the failed check's own address, which addr2line must place in lwIP's pbuf.c.
#    In fault-2 a read of 0x30000000, where nothing is mapped, is a precise bus fault
#    escalated to HardFault: CFSR BFARVALID and PRECISERR, HFSR FORCED.
fault_run() {   # fault_run N WANT-LINE: boots FW/fault-N/, whose log must be the two lines
  if [ ! -f "$fw/fault-$1/iapd-boot-sram.elf" ]; then
    echo "FAIL: qemu fault-$1: no $fw/fault-$1/iapd-boot-sram.elf (make check-firmware builds it)"
    failed=$((failed + 1))
    return 1
  fi
  printf '%s\n' "board: power on, 16 MHz (PLL did not lock: HSI)" "$2" >"$tmp/want"
  run "fault-$1" "$fw/fault-$1/iapd-boot.bin" "$tmp/want"
}
# The program runs from SRAM (firmware/unpack_stub.c): the addresses are 0x2000xxxx.
if fault_run 1 "~lwip: error: assertion failed at address 0x200[01][0-9a-f]{4}"; then
  addr=$(sed -n 's/^lwip: error: assertion failed at address \(0x[0-9a-f]*\)$/\1/p' "$tmp/fault-1.log.txt")
  where=$(arm-none-eabi-addr2line -e "$fw/fault-1/iapd-boot-sram.elf" "${addr:-0}")
  case $where in
    */lwip/src/core/pbuf.c:[0-9]*) echo "PASS: qemu fault-1: $addr is $where" ;;
    *) echo "FAIL: qemu fault-1: address ${addr:-none} is $where, not lwIP's pbuf.c"
       failed=$((failed + 1)) ;;
  esac
fi
fault_run 2 "~board: error: fault at address 0x200[01][0-9a-f]{4} \(CFSR 0x00008200, HFSR 0x40000000\)"

echo "qemu_boot: $runs runs, $failed failed, $(($(date +%s) - start)) s"
[ "$failed" -eq 0 ]
