#!/bin/sh
# The bootloader's size report in the shape of AN3376 Table 4, AN3376's figures beside ours,
# and, for each row above AN3376's figure, where the bytes go.
#
#   size-report.sh SIZE NM DIR HAVE_HTTP SRCDIR LWIP_DIR ROW...
#
# ROW is name|USE_IAP_TFTP|USE_IAP_HTTP|IAP_LOG|USE_DHCP|AN3376's bytes or "-"[|IAP_BOOT_VERIFY
# [|user flash address, when not 0x08010000]]; DIR/name/
# holds that build's iapd-boot.bin (the image in flash: the stub and the packed program) and
# iapd-boot-sram.elf (the program, which runs from SRAM). "flash" is the .bin's bytes;
# "program" the program's (code, read-only data and .data), unpacked.
# The breakdown reads the symbols' sizes and source files from the ELF's debug information
# (nm -S -l): with link-time optimisation the map no longer knows the object files.
set -eu
size_tool=$1 nm_tool=$2 dir=$3 have_http=$4 srcdir=$5 lwip_dir=$6
shift 6

x() { if [ "$1" = 1 ]; then echo X; else echo .; fi; }

# program_memory DIR/NAME: the program's bytes (code, read-only data, .data), SRAM (program +
# .bss) and CCM, from the sections of iapd-boot-sram.elf.
program_memory() {
  "$size_tool" -A "$1/iapd-boot-sram.elf" \
    | awk '$1 ~ /^\.(isr_vector|text|ARM\.exidx|data)$/ { p += $2 } $1 == ".bss" { b = $2 }
           $1 == ".ccm" { c = $2 } END { print p, p + b, c + 0 }'
}

printf '\nBootloader code size vs. configuration options (AN3376 Table 4; IAP_LOG for USE_LCD)\n\n'
printf '%-28s %4s %4s %7s %4s %10s %10s %9s %6s %12s %9s %9s %9s %9s\n' build TFTP HTTP IAP_LOG \
  DHCP "flash (B)" "AN3376 (B)" "vs AN3376" "ratio" "program (B)" "SRAM (B)" "CCM (B)" \
  "stack (B)" "left (B)"
above=
for row in "$@"; do
  old_ifs=$IFS; IFS='|'
  # shellcheck disable=SC2086
  set -- $row
  IFS=$old_ifs
  name=$1 tftp=$2 http=$3 log=$4 dhcp=$5 an=$6 user=${8:-}
  printf '%-28s %4s %4s %7s %4s ' "$name" "$(x "$tftp")" "$(x "$http")" "$(x "$log")" "$(x "$dhcp")"
  if [ "$http" = 1 ] && [ "$have_http" != yes ]; then
    printf '%10s %10s   (HTTP server not built yet: no src/http_server.c)\n' n/a "$an"
    continue
  fi
  # flash, then from the program's sections: its bytes, SRAM (program + .bss), CCM
  # shellcheck disable=SC2046
  set -- $(wc -c <"$dir/$name/iapd-boot.bin") $(program_memory "$dir/$name")
  # The stack's high-water mark, from the UART log of the QEMU test (make check-firmware),
  # and the SRAM left above the program and .bss for it.
  stack=-
  if [ -f "$dir/$name/stack.txt" ]; then read -r stack _ <"$dir/$name/stack.txt"; fi
  left=$((131072 - $3))
  if [ "$an" = - ]; then
    printf '%10s %10s %9s %6s %12s %9s %9s %9s %9s\n' "$1" - "" "" "$2" "$3" "$4" "$stack" "$left"
  else
    # ours / AN3376's, to two decimals, in integers (sh has no floats)
    ratio=$(( ($1 * 200 / an + 1) / 2 ))
    ratio=$((ratio / 100)).$(printf '%02d' $((ratio % 100)))
    printf '%10s %10s %+9d %6s %12s %9s %9s %9s %9s\n' "$1" "$an" $(($1 - an)) "$ratio" "$2" "$3" \
      "$4" "$stack" "$left"
    if [ "$1" -gt "$an" ]; then above="$above $name"; fi
  fi
  case $name in signature*) above="$above $name" ;; esac   # where the checks' bytes go
  # The QEMU test's runs with the Key released (DIR/../qemu/NAME/): a boot check that
  # refuses an image runs before IAP mode, and can go deeper than the Key-held boot.
  if [ -f "$dir/../qemu/$name/stack.txt" ]; then
    read -r deep _ <"$dir/../qemu/$name/stack.txt"
    printf '%-28s (stack %s B after a boot check refused an image, the Key released)\n' "" "$deep"
  fi
  if [ -n "$user" ] && [ "$((user))" -ne $((0x08010000)) ]; then
    printf '%-28s (linked below %s: the bootloader takes %d KiB, applications start there)\n' \
      "" "$user" $(( (user - 0x08000000) / 1024 ))
  fi
done
printf '\nflash: the .bin, what flash holds: the stub and the packed program (firmware/unpack_stub.c).\n'
printf 'program: its code + read-only data + .data, unpacked into SRAM at reset. SRAM: the program\n'
printf '+ .bss (Ethernet DMA buffers, the servers); CCM: lwIP heap and pools. The stack gets the\n'
printf 'rest of the 128 KiB of SRAM, "left". stack: the high-water mark in IAP mode, painted at\n'
printf 'reset and read back over the UART log under QEMU (make check-firmware; "-" before it ran,\n'
printf 'or without IAP_LOG), the Key held; "after a boot check": the deepest of its runs with the\n'
printf 'Key released. The boot path and lwIP start only, QEMU has no Ethernet (firmware/README.md).\n'
printf 'AN3376: IAR EWARM 6.21, high size optimisation, lwIP 1.3.2, ST peripheral library;\n'
printf 'ratio: our flash bytes over its, to two decimals.\n'

for name in $above; do
  elf=$dir/$name/iapd-boot-sram.elf
  flash=$(wc -c <"$dir/$name/iapd-boot.bin")
  read -r total _ <<EOF
$(program_memory "$dir/$name")
EOF
  printf '\nWhere the %s bytes of the program of "%s" go (%s B in flash, packed):\n' "$total" \
    "$name" "$flash"
  case $name in
    signature*)   # the verified boot's budget: below 0x08010000 with 4 KiB to spare
      budget=$((65536 - 4096))
      printf '  (the budget with 4 KiB to spare below 0x08010000 is %s B of flash: %+d B)\n' \
        "$budget" $((flash - budget)) ;;
  esac
  "$nm_tool" -S -l --size-sort "$elf" | awk -v total="$total" -v lwip="$lwip_dir/" \
    -v src="$srcdir/src/" -v fw="$srcdir/firmware/" '
    function hex(s,   i, v) {
      v = 0; s = tolower(s)
      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
      return v
    }
    $3 !~ /^[TtRrDdWw]$/ { next }
    $1 in seen { next }   # an alias (snprintf/sniprintf): same bytes, counted once
    { seen[$1] = 1 }
    {
      size = hex($2); file = (NF >= 5) ? $5 : ""; sub(/:[0-9]+$/, "", file)
      if (index(file, lwip) == 1) { c = "lwIP 2.1"; f = "lwip/" substr(file, length(lwip) + 1) }
      else if (index(file, src) == 1) { c = "src/ (IAP code)"; f = "src/" substr(file, length(src) + 1) }
      else if (index(file, fw) == 1) { c = "firmware/ (STM32 layer)"; f = "firmware/" substr(file, length(fw) + 1) }
      else if (file ~ /third_party\/mbedtls\//) { c = "mbed TLS 2.28 (SHA-256)"; f = "mbedtls/" substr(file, index(file, "/library/") + 9) }
      else if (file ~ /third_party\/bearssl\//) { c = "BearSSL 0.6 (ECDSA P-256)"; f = "bearssl/" substr(file, index(file, "/src/") + 5) }
      else if (file ~ /newlib/) { c = "newlib-nano (printf, mem*, str*)"; f = "" }
      else if (file ~ /libgcc/) { c = "libgcc"; f = "" }
      else if (file ~ /fsdata/ || (file == "" && $4 ~ /^(file_|http_fs_files)/))
        { c = "web pages (generated http_fsdata.c)"; f = "" }   # names from tools/mkfsdata.py
      else if (file != "") { c = "other"; f = file }
      else { c = "tables without line info (vectors, pools)"; f = "" }
      sum[c] += size; counted += size
      if (f != "") { byfile[f] += size }
      sym[$4 " (" (f != "" ? f : c) ")"] = size
    }
    END {
      sum["constants and strings without a symbol"] = total - counted
      for (c in sum) printf "C\t%d\t%s\n", sum[c], c
      for (f in byfile) printf "F\t%d\t%s\n", byfile[f], f
      for (s in sym) printf "S\t%d\t%s\n", sym[s], s
    }' | sort -t '	' -k1,1 -k2,2nr > "$dir/$name/where.txt"
  awk -F '\t' -v total="$total" '$1 == "C" { printf "  %-42s %6d B %5.1f%%\n", $3, $2, 100 * $2 / total }' \
    "$dir/$name/where.txt"
  printf '  largest source files:\n'
  awk -F '\t' '$1 == "F" { printf "    %6d B  %s\n", $2, $3 }' "$dir/$name/where.txt" | head -n 10
  printf '  largest functions and tables:\n'
  awk -F '\t' '$1 == "S" { printf "    %6d B  %s\n", $2, $3 }' "$dir/$name/where.txt" | head -n 10
done
