#!/bin/bash
# --dhcp with no DHCP server (AN3376 5.1): the board asks (DHCPDISCOVERs on the wire, seen in
# the capture), and after 10 s without an answer uses its static address 192.168.0.10, says
# so, and the TFTP server starts there; /api/status says "pending", then "fallback".
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
NEEDS_TAP='the fallback needs a network where no DHCP server answers, and slirp always has one'
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v tcpdump >/dev/null || hard_error "tcpdump is not installed (scripts/bootstrap.sh deps)"

start=$(date +%s%N)
board_launch --dhcp --pcap "$WORK/cap.pcap"
board_wait "net: DHCP: looking for a server (static address after 10 s without answer)" 5
status=$(timeout 5 curl -sS http://127.0.0.1:8069/api/status) || fail "no control server"
[ "$(jq -c '.network | [.ip, .address_source]' <<<"$status")" = '["0.0.0.0","pending"]' ] \
  || fail "while asking: status network $(jq -c .network <<<"$status")"
log_has "$READY_LINE" && fail "the TFTP server started before the address was settled"

board_wait "net: warning: DHCP: no answer within 10 s; using the static address 192.168.0.10" 15
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed_ms" -ge 9500 ] || fail "fell back after $elapsed_ms ms, before the 10 s"
board_wait "$READY_LINE" 5
status=$(timeout 5 curl -sS http://127.0.0.1:8069/api/status) || fail "no control server"
[ "$(jq -c '.network | [.ip, .netmask, .gateway, .address_source]' <<<"$status")" = \
  '["192.168.0.10","255.255.255.0","192.168.0.1","fallback"]' ] \
  || fail "after the fallback: status network $(jq -c .network <<<"$status")"

mkimg app.bin --link 0x08010000 --size 10000 --seed 81
cp flash.bin before.bin
log_mark
out=$(timeout 30 tftp -m binary "$BOARD_IP" -c put app.bin app.bin 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] || fail "upload to the fallback address failed: $out"
check_flashed app.bin before.bin
board_stop

discover=$(tcpdump -r cap.pcap -nn -v 'udp src port 68 and udp dst port 67' 2>/dev/null \
  | grep -c "DHCP-Message (53), length 1: Discover")
[ "$discover" -ge 3 ] || fail "only $discover DHCPDISCOVERs in the capture"
tcpdump -r cap.pcap -nn -e 'udp port 67' 2>/dev/null | grep -q "^[0-9:.]* 00:00:00:00:00:02 > ff:ff:ff:ff:ff:ff" \
  || fail "the DISCOVERs do not come from the board's MAC, broadcast"
say "ok: $discover DISCOVERs, no answer, static address after $elapsed_ms ms, upload landed"
exit 0
