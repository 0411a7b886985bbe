#!/bin/bash
# --attach IFACE (emul/pcapif.c): the board on one end of a veth pair through libpcap, no TAP.
#   - the board comes up on veth1, says so, and answers on veth0's subnet: an upload lands;
#   - /api/status names the backend and the interface;
#   - --pcap works on this backend too;
#   - a missing interface: exit 1 with the reason; --attach with --tap or --host-addr:
#     exit 2.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
NEEDS_TAP='--attach needs a veth pair and CAP_NET_RAW'
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v tcpdump >/dev/null || hard_error "tcpdump is not installed (scripts/bootstrap.sh deps)"

# veth0: the host's end, 192.168.0.1/24; veth1: the board's, no address of its own. No IPv6,
# so the kernel sends nothing of its own on the wire.
ip link add veth0 type veth peer name veth1 || hard_error "cannot create a veth pair"
for dev in veth0 veth1; do
  sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null
  ip link set "$dev" up || hard_error "cannot bring up $dev"
done
ip addr add "$HOST_IP/24" dev veth0 || hard_error "cannot address veth0"
# veth leaves checksums to "hardware" that is not there: libpcap sees them unfinished, and the
# board (like a real MAC) drops such frames. A wire never carries them; turn it off (iapd(8)).
command -v ethtool >/dev/null || hard_error "ethtool is not installed (scripts/bootstrap.sh deps)"
ethtool -K veth0 tx off tso off gso off >/dev/null 2>&1 \
  || hard_error "cannot turn off checksum offload on veth0: $(ethtool -K veth0 tx off 2>&1)"

# attach_launch ARGS...: iapd on veth1, as board_launch does for the TAP.
attach_launch() {
  log_mark
  "$IAPD" --foreground --attach veth1 --flash "$WORK/flash.bin" "$@" >> "$WORK/iapd.log" 2>&1 &
  IAPD_PID=$!
}

attach_launch --pcap "$WORK/cap.pcap"
board_wait "$READY_LINE"
log_has "net: board 192.168.0.10/255.255.255.0 gateway 192.168.0.1 MAC 00:00:00:00:00:02 on veth1 (attached with libpcap)" \
  || fail "iapd does not say it is attached to veth1"
log_has "host side of" && fail "iapd configured a host side with --attach"
[ -z "$(ip -4 -o addr show dev veth1)" ] || fail "iapd gave veth1 an address"

mkimg app.bin --link 0x08010000 --size 70000 --seed 61
cp flash.bin before.bin
log_mark
out=$(timeout 30 tftp -m binary "$BOARD_IP" -c put app.bin app.bin 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] || fail "upload over the veth pair failed: $out"
check_flashed app.bin before.bin
say "ok: upload over veth0 -> veth1 (libpcap) landed"

status=$(timeout 5 curl -sS http://127.0.0.1:8069/api/status) || fail "no control server"
[ "$(jq -c '.network | [.backend, .interface, .up]' <<<"$status")" = '["pcap","veth1",true]' ] \
  || fail "status network: $(jq -c .network <<<"$status")"
rx=$(jq .network.rx_frames <<<"$status")
[ "$rx" -ge 138 ] || fail "rx_frames $rx after a 137-block upload"
board_stop

tcpdump -r cap.pcap -nn udp 2>/dev/null > udp.txt
grep -qE "IP $HOST_IP\.[0-9]+ > $BOARD_IP\.69: TFTP, length [0-9]+, WRQ \"app.bin\" octet" udp.txt \
  || fail "the capture on the pcap backend has no WRQ"
[ "$(grep -cE "> $HOST_IP\.[0-9]+: UDP, length 4\$" udp.txt)" -eq 138 ] \
  || fail "the capture on the pcap backend has $(grep -cE "> $HOST_IP\.[0-9]+: UDP, length 4\$" udp.txt) ACKs, expected 138"
say "ok: /api/status says pcap on veth1; --pcap captures on this backend ($rx frames in)"

# Errors.
out=$(timeout 10 "$IAPD" -f --attach nosuch0 --flash "$WORK/flash.bin" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "--attach nosuch0: exit $rc, expected 1: $out"
grep -qF "net: error: cannot attach to nosuch0: no such interface" <<<"$out" || fail "--attach nosuch0: $out"
out=$(timeout 10 "$IAPD" -f --attach veth1 --tap tap0 --flash "$WORK/flash.bin" 2>&1)
[ $? -eq 2 ] || fail "--attach with --tap: not exit 2: $out"
grep -qF "tap tap0 and attach veth1 both set" <<<"$out" || fail "--attach with --tap: $out"
out=$(timeout 10 "$IAPD" -f --attach veth1 --host-addr 10.0.0.1/24 --flash "$WORK/flash.bin" 2>&1)
[ $? -eq 2 ] || fail "--attach with --host-addr: not exit 2: $out"
grep -qF "host-addr applies to the TAP device" <<<"$out" || fail "--attach with --host-addr: $out"
say "ok: --attach nosuch0: exit 1; with --tap or --host-addr: exit 2"
exit 0
