#!/bin/bash
# --user-net (emul/net/slirpif.c): the board on libslirp inside iapd, in the machine's own
# network namespace, no TAP and no privilege; clients on 127.0.0.1 through forwards on free
# ports. Always this backend, whatever the machine allows:
#   - the start-up lines: slirp's network, each forward;
#   - TFTP through one UDP forward with every client (tftp-hpa binary and netascii, curl,
#     atftp, busybox): the board answers from a new port, slirp from a new host port, each
#     client follows it; flash byte for byte;
#   - HTTP PUT through the TCP forward, /api/status on the control server (backend "user");
#   - --pcap: the WRQ from slirp's address, slirp's ARP, the HTTP SYN;
#   - --dhcp: slirp's lease 192.168.0.15, the forwards follow the board there;
#   - as root: the same board as user nobody with every capability dropped takes an upload;
#   - refusals: a forward on a port in use, a privileged port as a user, a malformed forward.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
TEST_NAME=user_net
user_net_enter
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v tcpdump >/dev/null || hard_error "tcpdump is not installed (scripts/bootstrap.sh deps)"
command -v jq >/dev/null || hard_error "jq is not installed (scripts/bootstrap.sh deps)"

# upload CLIENT IMAGE: CLIENT sends IMAGE as app.bin to 127.0.0.1:$TFTP_PORT and must succeed.
upload() {
  local client=$1 img=$2 out rc
  case "$client" in
    tftp-binary)   out=$(timeout 30 tftp -m binary 127.0.0.1 "$TFTP_PORT" -c put "$img" app.bin 2>&1) ;;
    tftp-netascii) out=$(timeout 30 tftp 127.0.0.1 "$TFTP_PORT" -c put "$img" app.bin 2>&1) ;;
    curl)          out=$(timeout 30 curl -sS --max-time 25 -T "$img" "tftp://127.0.0.1:$TFTP_PORT/app.bin" 2>&1) ;;
    atftp)         out=$(timeout 30 atftp -p -l "$img" -r app.bin 127.0.0.1 "$TFTP_PORT" 2>&1) ;;
    busybox)       out=$(timeout 30 busybox tftp -p -l "$img" -r app.bin 127.0.0.1 "$TFTP_PORT" 2>&1) ;;
    *)             hard_error "unknown client $client" ;;
  esac
  rc=$?
  [ "$rc" -eq 0 ] || fail "$client through the forward 127.0.0.1:$TFTP_PORT: exit $rc: $out"
  case "$out" in
    *rror*|*imeout*|*imed\ out*) fail "$client through the forward reported: $out" ;;
  esac
}

# upload_case CLIENT SIZE SEED: an upload that must land byte for byte, from slirp's address.
upload_case() {
  local client=$1 img=$WORK/app-$2.bin
  mkimg "$img" --link 0x08010000 --size "$2" --seed "$3"
  cp flash.bin before.bin
  log_mark
  upload "$client" "$img"
  check_flashed "$img" before.bin
  log_since_mark | grep -qE "^iapd: tftp: transfer started from 192\.168\.0\.1:[0-9]+: \"app\.bin\"" \
    || fail "$client: no 'transfer started from 192.168.0.1:PORT' line: $(log_since_mark | grep started)"
  say "ok: $client through udp 127.0.0.1:$TFTP_PORT -> 69: $2 bytes landed"
}

flash_erased flash.bin
board_start --pcap "$WORK/cap.pcap"

# --- start-up lines --------------------------------------------------------------------------
log_has "net: user-mode networking (libslirp " \
  || fail "no 'user-mode networking (libslirp ...)' line"
log_has "): network 192.168.0.0/255.255.255.0, host 192.168.0.1, DHCP leases from 192.168.0.15" \
  || fail "slirp's network is not 192.168.0.0/24, host .1, DHCP from .15: $(grep 'user-mode' iapd.log)"
log_has "net: forward udp:127.0.0.1:$TFTP_PORT:69: udp 127.0.0.1:$TFTP_PORT on this host leads to the board's port 69" \
  || fail "no line for the TFTP forward"
log_has "net: forward tcp:127.0.0.1:$HTTP_PORT:80: tcp 127.0.0.1:$HTTP_PORT on this host leads to the board's port 80" \
  || fail "no line for the HTTP forward"
log_has "net: board 192.168.0.10/255.255.255.0 gateway 192.168.0.1 MAC 00:00:00:00:00:02 on slirp (user-mode networking)" \
  || fail "no board line on slirp"
log_has "warning" && fail "a warning at start-up: $(grep warning iapd.log)"

# --- TFTP with every client, through one UDP forward -------------------------------------------
upload_case curl          200000 61   # sectors 4 to 6; curl announces tsize
upload_case tftp-netascii  70001 62
upload_case tftp-binary    65536 63   # a 512 multiple: ends with an empty DATA
upload_case atftp           4096 64
upload_case busybox         1001 65
upload_case curl             512 66
upload_case busybox            9 67

# --- HTTP PUT through the TCP forward ------------------------------------------------------------
mkimg put.bin --link 0x08010000 --size 30000 --seed 68
cp flash.bin before.bin
log_mark
out=$(timeout 30 curl -sS --noproxy '*' --max-time 25 -u user:stm32 -T put.bin \
  "http://127.0.0.1:$HTTP_PORT/firmware") || fail "HTTP PUT through the forward failed: $out"
[ "$out" = "{\"ok\":true,\"size\":30000,\"crc32\":\"$(crc32_of put.bin)\",\"address\":\"0x08010000\"}" ] \
  || fail "HTTP PUT: answer '$out'"
board_wait "flash: HTTP: done, 30000 bytes at 0x08010000, CRC-32 $(crc32_of put.bin)" 5
cmp -s <(flash_region "$USER_FLASH_OFFSET" 30000) put.bin || fail "HTTP PUT: flash differs from put.bin"
log_has "http: upload from 192.168.0.1:" || fail "HTTP upload not from slirp's address"
say "ok: HTTP PUT through tcp 127.0.0.1:$HTTP_PORT -> 80: $out"

# --- the control server ------------------------------------------------------------------------
status=$(timeout 10 curl -sS --noproxy '*' "http://$CONTROL_ADDR/api/status") \
  || fail "GET /api/status on $CONTROL_ADDR failed"
[ "$(jq -c '.network | del(.rx_frames, .tx_frames)' <<<"$status")" = \
  '{"backend":"user","interface":"slirp","mac":"00:00:00:00:00:02","ip":"192.168.0.10","netmask":"255.255.255.0","gateway":"192.168.0.1","address_source":"static","up":true,"rx_dropped_stalled":0}' ] \
  || fail "/api/status network: $(jq -c .network <<<"$status")"
[ "$(jq -r .board.mode <<<"$status")" = iap ] || fail "/api/status: mode $(jq -r .board.mode <<<"$status")"
say "ok: /api/status on $CONTROL_ADDR: $(jq -c '.network | [.backend, .interface, .ip]' <<<"$status")"
board_stop

# --- the capture --------------------------------------------------------------------------------
tcpdump -r cap.pcap -nn udp port 69 > wrq.txt 2>/dev/null
[ "$(grep -cE 'IP 192\.168\.0\.1\.[0-9]+ > 192\.168\.0\.10\.69: TFTP, length [0-9]+, WRQ "app.bin"' wrq.txt)" -eq 7 ] \
  || fail "expected 7 WRQs from 192.168.0.1 in the capture: $(cat wrq.txt)"
tcpdump -r cap.pcap -nn -e arp > arp.txt 2>/dev/null
grep -qE "^[0-9:.]+ 52:55:c0:a8:00:01 > 00:00:00:00:00:02, ethertype ARP \(0x0806\), length [0-9]+: Reply 192\.168\.0\.1 is-at 52:55:c0:a8:00:01" arp.txt \
  || fail "no ARP reply from slirp (52:55:c0:a8:00:01) to the board: $(cat arp.txt)"
tcpdump -r cap.pcap -nn "tcp port 80" > http.txt 2>/dev/null
grep -qE "IP 192\.168\.0\.1\.[0-9]+ > 192\.168\.0\.10\.80: Flags \[S\]" http.txt \
  || fail "no SYN to the board's port 80 in the capture"
from_board=$(tcpdump -r cap.pcap -nn ether src 00:00:00:00:00:02 2>/dev/null | wc -l)
to_board=$(tcpdump -r cap.pcap -nn ether dst 00:00:00:00:00:02 2>/dev/null | wc -l)
[ "$from_board" -gt 500 ] && [ "$to_board" -gt 500 ] \
  || fail "the capture holds $from_board frames from and $to_board to the board"
say "ok: --pcap: 7 WRQs from 192.168.0.1, slirp's ARP reply, the HTTP SYN; $from_board frames from, $to_board to the board"

# --- DHCP from slirp: the board moves to 192.168.0.15, the forwards follow ---------------------
board_launch --key --dhcp
board_wait "net: DHCP: address 192.168.0.15 netmask 255.255.255.0 gateway 192.168.0.1 from server 192.168.0.1" 10
board_wait "tftp: server ready on 192.168.0.15 port 69" 5
board_wait "net: forwards now lead to the board at 192.168.0.15" 5
mkimg dhcp.bin --link 0x08010000 --size 20001 --seed 69
cp flash.bin before.bin
log_mark
upload curl dhcp.bin
board_wait "flash: TFTP: done, 20001 bytes at 0x08010000, CRC-32 $(crc32_of dhcp.bin)" 5
cmp -s <(flash_region "$USER_FLASH_OFFSET" 20001) dhcp.bin || fail "upload to the leased address: flash differs"
status=$(timeout 10 curl -sS --noproxy '*' "http://$CONTROL_ADDR/api/status")
[ "$(jq -c '.network | [.ip, .address_source]' <<<"$status")" = '["192.168.0.15","dhcp"]' ] \
  || fail "/api/status after DHCP: $(jq -c .network <<<"$status")"
out=$(timeout 10 curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/")
[ "$out" = 200 ] || fail "HTTP through the forward after the lease: status $out"
board_stop
say "ok: --dhcp: lease 192.168.0.15 from slirp, TFTP and HTTP forwards follow the board"

# --- no privilege: as nobody, every capability dropped ------------------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  mkdir nobody
  cp "$IAPD" nobody/iapd
  chmod 755 nobody/iapd
  flash_erased nobody/flash.bin
  chown -R nobody nobody
  chmod 711 "$WORK"
  log_mark
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all \
    --bounding-set=-all --no-new-privs "$WORK/nobody/iapd" --foreground \
    "${BOARD_NET_ARGS[@]}" --flash "$WORK/nobody/flash.bin" >> iapd.log 2>&1 &
  IAPD_PID=$!
  board_wait "$READY_LINE" 10
  grep -q '^CapEff:[[:space:]]*0*$' "/proc/$IAPD_PID/status" \
    || fail "iapd as nobody has capabilities: $(grep Cap "/proc/$IAPD_PID/status")"
  [ "$(stat -c %u "/proc/$IAPD_PID")" = "$(id -u nobody)" ] || fail "iapd does not run as nobody"
  mkimg nobody.bin --link 0x08010000 --size 5000 --seed 70
  upload busybox nobody.bin
  board_wait "flash: TFTP: done, 5000 bytes at 0x08010000, CRC-32 $(crc32_of nobody.bin)" 5
  cmp -s <(file_region nobody/flash.bin "$USER_FLASH_OFFSET" 5000) nobody.bin \
    || fail "as nobody: the upload did not land"
  board_stop
  say "ok: as nobody with no capabilities (CapEff 0): an upload through the forward landed"
else
  say "note: not root: this whole test ran as $(id -un), which is the point"
fi

# --- refusals -----------------------------------------------------------------------------------
# A port in use: exit 1, the forward and the reason named, before the board powers on.
mkfifo hold
python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
print("bound", flush=True)
sys.stdin.read()' "$TFTP_PORT" < hold > holder.out 2>&1 &
holder=$!
exec 7> hold
for _ in $(seq 1 50); do grep -q bound holder.out && break; sleep 0.1; done
grep -q bound holder.out || hard_error "cannot hold 127.0.0.1:$TFTP_PORT: $(cat holder.out)"
out=$(timeout 10 "$IAPD" -f "${BOARD_NET_ARGS[@]}" --flash "$WORK/flash.bin" 2>&1)
rc=$?
exec 7>&-
wait "$holder"
[ "$rc" -eq 1 ] || fail "a forward on a port in use: exit $rc, expected 1: $out"
[ "$(tail -n 1 <<<"$out")" = "iapd: net: error: forward udp:127.0.0.1:$TFTP_PORT:69: cannot bind 127.0.0.1:$TFTP_PORT/udp: Address already in use (another program has it: pick another host port)" ] \
  || fail "a forward on a port in use: $out"
grep -q "power on" <<<"$out" && fail "the board powered on with a forward missing"
say "ok: port in use: exit 1 ($(tail -n 1 <<<"$out"))"

# A privileged port as a user (not root: as nobody; where the kernel lets users bind low ports,
# ip_unprivileged_port_start 0 as in some containers, there is nothing to refuse).
lowest=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  as_user=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all
           --bounding-set=-all)
  [ -x "$WORK/nobody/iapd" ] || as_user=()
fi
if [ "$lowest" -gt 69 ] && { [ "$(id -u)" -ne 0 ] || [ ${#as_user[@]} -gt 0 ]; }; then
  bin=$IAPD flash=$WORK/flash.bin
  if [ ${#as_user[@]} -gt 0 ]; then bin=$WORK/nobody/iapd flash=$WORK/nobody/flash.bin; fi
  out=$(timeout 10 "${as_user[@]}" "$bin" -f --user-net --forward udp:127.0.0.1:69:69 \
    --control none --flash "$flash" 2>&1)
  rc=$?
  [ "$rc" -eq 1 ] || fail "a forward from port 69 as a user: exit $rc, expected 1: $out"
  [ "$(tail -n 1 <<<"$out")" = "iapd: net: error: forward udp:127.0.0.1:69:69: cannot bind 127.0.0.1:69/udp: Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE: pick a host port from 1024 up)" ] \
    || fail "a forward from port 69 as a user: $out"
  say "ok: port 69 as a user: exit 1 ($(tail -n 1 <<<"$out"))"
else
  say "note: users may bind port 69 here (ip_unprivileged_port_start $lowest) or there is no user to try it as: not checked"
fi

# A malformed forward: exit 2, the wrong part named.
out=$(timeout 10 "$IAPD" -f --user-net --forward "udp:$TFTP_PORT" --flash "$WORK/flash.bin" 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "--forward udp:$TFTP_PORT: exit $rc, expected 2: $out"
[ "$out" = "iapd: --forward udp:$TFTP_PORT has no board port (expected udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT, as in udp:127.0.0.1:6969:69)" ] \
  || fail "--forward udp:$TFTP_PORT: $out"
say "ok: malformed forward: exit 2 ($out)"
exit 0
