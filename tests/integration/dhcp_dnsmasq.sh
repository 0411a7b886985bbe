#!/bin/bash
# --dhcp with a DHCP server (AN3376 5.1): dnsmasq serves the TAP's host side in the test's
# namespace; the board takes its lease (not the static 192.168.0.10), logs it, the TFTP
# server starts on the leased address and an upload to it lands; /api/status says "dhcp";
# dnsmasq's lease file holds the board's MAC. A reset asks again and gets the same address.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
NEEDS_TAP='dnsmasq serves DHCP on the TAP'\''s host side'
netns_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
DNSMASQ=/usr/sbin/dnsmasq
[ -x "$DNSMASQ" ] || hard_error "dnsmasq is not installed (dnsmasq-base; scripts/bootstrap.sh deps)"

# The TAP exists before dnsmasq binds to it; iapd then uses it as it is.
ip tuntap add dev tap0 mode tap || hard_error "cannot create tap0"
ip addr add "$HOST_IP/24" dev tap0 || hard_error "cannot address tap0"
ip link set tap0 up || hard_error "cannot bring up tap0"

DNSMASQ_PID=
stop_dnsmasq() {
  [ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
  DNSMASQ_PID=
}
trap 'stop_dnsmasq; cleanup' EXIT
"$DNSMASQ" --no-daemon --conf-file=/dev/null --interface=tap0 --bind-interfaces --port=0 \
  --dhcp-range=192.168.0.50,192.168.0.59,255.255.255.0,10m --dhcp-authoritative --no-ping \
  --dhcp-leasefile="$WORK/leases" --pid-file= --user=root --group=root \
  --log-dhcp --log-facility="$WORK/dnsmasq.log" > dnsmasq.out 2>&1 &
DNSMASQ_PID=$!
for i in $(seq 1 50); do
  grep -q "DHCP, IP range" dnsmasq.log 2>/dev/null && break
  proc_alive "$DNSMASQ_PID" || hard_error "dnsmasq exited: $(cat dnsmasq.out dnsmasq.log 2>/dev/null)"
  sleep 0.1
done
grep -q "DHCP, IP range 192.168.0.50 -- 192.168.0.59" dnsmasq.log \
  || hard_error "dnsmasq did not start its DHCP server: $(cat dnsmasq.out dnsmasq.log 2>/dev/null)"

board_launch --dhcp
board_wait "net: DHCP: looking for a server (static address after 10 s without answer)" 5
board_wait "net: DHCP: address 192.168.0.5" 10
lease_line=$(log_since_mark | grep -F "net: DHCP: address ")
leased=$(sed -nE 's/.*DHCP: address (192\.168\.0\.5[0-9]) netmask 255\.255\.255\.0 gateway 192\.168\.0\.1 from server 192\.168\.0\.1, lease 600 s$/\1/p' <<<"$lease_line")
[ -n "$leased" ] || fail "unexpected lease line: $lease_line"
board_wait "tftp: server ready on $leased port 69" 5
log_has "using the static address" && fail "the board fell back although dnsmasq answered"
log_has "tftp: server ready on $BOARD_IP port 69" && fail "the TFTP server started on the static address"
grep -qE "^[0-9]+ 00:00:00:00:00:02 $leased " leases || fail "dnsmasq's lease file: $(cat leases)"
say "ok: $lease_line"

status=$(timeout 5 curl -sS http://127.0.0.1:8069/api/status) || fail "no control server"
[ "$(jq -c '.network | [.ip, .netmask, .gateway, .address_source]' <<<"$status")" = \
  "[\"$leased\",\"255.255.255.0\",\"192.168.0.1\",\"dhcp\"]" ] \
  || fail "status network: $(jq -c .network <<<"$status")"

# TFTP at the leased address.
mkimg app.bin --link 0x08010000 --size 30000 --seed 71
cp flash.bin before.bin
log_mark
out=$(timeout 30 tftp -m binary "$leased" -c put app.bin app.bin 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] || fail "upload to the leased address $leased failed: $out"
check_flashed app.bin before.bin
timeout 5 tftp -m binary "$BOARD_IP" -c put app.bin app.bin >/dev/null 2>&1 \
  && fail "the board also answered on the static address $BOARD_IP"
say "ok: upload to $leased landed; nothing answers on $BOARD_IP"

# A reset with Key: DHCP again, same address.
board_reset key
board_wait "boot: IAP mode (Key button held)" 5
board_wait "net: DHCP: looking for a server" 5
board_wait "net: DHCP: address $leased " 10
board_wait "tftp: server ready on $leased port 69" 5
board_stop
say "ok: reset: DHCP again, $leased again"
exit 0
