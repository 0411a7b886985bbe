#!/bin/bash
# --pcap FILE (emul/pcap_capture.c): every frame crossing the emulated MAC, both directions,
# read back with tcpdump after an upload:
#   - the WRQ on port 69, then exactly the DATA and ACK packets a 20000-byte upload takes
#     (40 DATA, the last one short; ACK 0 to ACK 40) on the transfer's own port;
#   - ARP both ways, the board's MAC as source and as destination;
#   - the board's HTTP server, when iapd has one: a GET and its answer on TCP port 80;
#   - timestamps in order, within the run; SIGHUP starts a new file (rotation);
#   - a capture file that cannot be written: exit 1 before the network is touched.
set -u
. "${TESTS_DIR:-$(dirname "$0")/..}/integration/lib.sh"
net_enter "$0" "$@"
cd "$WORK" || hard_error "cannot cd to $WORK"
command -v tcpdump >/dev/null || hard_error "tcpdump is not installed (scripts/bootstrap.sh deps)"

BOARD_MAC=00:00:00:00:00:02
start_s=$(date +%s)
board_start --pcap "$WORK/cap.pcap"
board_wait "net: capturing every frame to $WORK/cap.pcap"
mkimg app.bin --link 0x08010000 --size 20000 --seed 51
cp flash.bin before.bin
log_mark
out=$(timeout 30 tftp -m binary "$TFTP_HOST" "$TFTP_PORT" -c put app.bin app.bin 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] || fail "upload failed: $out"
check_flashed app.bin before.bin

http=no
if grep -qF "http: server ready on $BOARD_IP port 80" iapd.log; then
  http=yes
  timeout 10 curl -sS -o page.html "$HTTP_URL/" || fail "GET $HTTP_URL/ failed"
fi
sleep 0.3   # the last ACK and the TCP close reach the file
board_stop
end_s=$(date +%s)

tcpdump -r cap.pcap -nn > all.txt 2> tcpdump.err || fail "tcpdump cannot read cap.pcap: $(cat tcpdump.err)"
grep -q 'reading from file cap.pcap, link-type EN10MB (Ethernet)' tcpdump.err \
  || fail "cap.pcap is not an Ethernet capture: $(cat tcpdump.err)"

# The request on port 69.
tcpdump -r cap.pcap -nn udp port 69 > wrq.txt 2>/dev/null
grep -c . wrq.txt | grep -qx 1 || fail "expected one packet on port 69, found: $(cat wrq.txt)"
grep -qE "IP $HOST_IP\.([0-9]+) > $BOARD_IP\.69: TFTP, length [0-9]+, WRQ \"app.bin\" octet" wrq.txt \
  || fail "no WRQ from $HOST_IP in the capture: $(cat wrq.txt)"
client_port=$(sed -nE "s/.*IP $HOST_IP\.([0-9]+) > $BOARD_IP\.69:.*/\1/p" wrq.txt)
# The board answers from the transfer's own port (its TID).
tid=$(sed -nE "s/.*IP $BOARD_IP\.([0-9]+) > $HOST_IP\.$client_port: UDP, length 4\$/\1/p" all.txt | head -n 1)
[ -n "$tid" ] || fail "no ACK from the board to $HOST_IP.$client_port in the capture"
tcpdump -r cap.pcap -nn "udp port $tid and udp port $client_port" > session.txt 2>/dev/null
data=$(grep -cE "IP $HOST_IP\.$client_port > $BOARD_IP\.$tid: UDP, length 516\$" session.txt)
last=$(grep -cE "IP $HOST_IP\.$client_port > $BOARD_IP\.$tid: UDP, length 36\$" session.txt)
acks=$(grep -cE "IP $BOARD_IP\.$tid > $HOST_IP\.$client_port: UDP, length 4\$" session.txt)
# 20000 bytes: 39 blocks of 512 and one of 32 (DATA headers are 4 bytes); ACK 0 to ACK 40.
[ "$data" -eq 39 ] && [ "$last" -eq 1 ] && [ "$acks" -eq 41 ] \
  || fail "expected 39 full DATA, 1 last DATA of 32 bytes, 41 ACKs; found $data, $last, $acks"
[ "$(wc -l < session.txt)" -eq 81 ] || fail "unexpected packets in the transfer: $(grep -vE 'length (516|36|4)$' session.txt)"
say "ok: WRQ from $HOST_IP.$client_port, then 40 DATA and 41 ACK on the board's port $tid"

# Both directions, by MAC address.
tcpdump -r cap.pcap -nn -e arp > arp.txt 2>/dev/null
grep -qE "^[0-9:.]+ $BOARD_MAC > [0-9a-f:]+, ethertype ARP \(0x0806\), length [0-9]+: (Request|Reply)" arp.txt \
  || fail "no ARP frame from the board's MAC: $(cat arp.txt)"
if [ "$BACKEND" = user ]; then
  # slirp learns the board's MAC from the board's own request for the gateway, and answers it.
  grep -qE "^[0-9:.]+ 52:55:c0:a8:00:01 > $BOARD_MAC, ethertype ARP \(0x0806\), length [0-9]+: Reply $HOST_IP is-at 52:55:c0:a8:00:01" arp.txt \
    || fail "no ARP reply from slirp to the board in the capture"
else
  grep -vE "^[0-9:.]+ $BOARD_MAC " arp.txt | grep -qE "ethertype ARP \(0x0806\), length [0-9]+: Request who-has $BOARD_IP tell $HOST_IP" \
    || fail "no ARP request from the host for the board in the capture"
fi
from_board=$(tcpdump -r cap.pcap -nn ether src $BOARD_MAC 2>/dev/null | wc -l)
to_board=$(tcpdump -r cap.pcap -nn ether dst $BOARD_MAC 2>/dev/null | wc -l)
[ "$from_board" -ge 42 ] && [ "$to_board" -ge 41 ] \
  || fail "frames from the board: $from_board, to the board: $to_board"

if [ "$http" = yes ]; then
  tcpdump -r cap.pcap -nn -A "tcp port 80" > http.txt 2>/dev/null
  grep -qE "IP $HOST_IP\.[0-9]+ > $BOARD_IP\.80: Flags \[S\]" http.txt || fail "no SYN to port 80 in the capture"
  grep -qE "IP $BOARD_IP\.80 > $HOST_IP\.[0-9]+: Flags \[S\.\]" http.txt || fail "no SYN-ACK from port 80"
  grep -q "GET / HTTP/1.1" http.txt || fail "no 'GET / HTTP/1.1' in the capture"
  grep -q "HTTP/1.[01] [0-9][0-9][0-9]" http.txt || fail "no HTTP answer in the capture"
  say "ok: the HTTP exchange (SYN, GET /, the answer) is in the capture"
else
  say "note: this iapd has no HTTP server: TFTP only"
fi

# Timestamps: in order, and within the run.
tcpdump -r cap.pcap -nn -tt 2>/dev/null | cut -d' ' -f1 > times.txt
sort -n -c times.txt 2>/dev/null || fail "capture timestamps are not in order"
first=$(head -n 1 times.txt); first=${first%.*}
final=$(tail -n 1 times.txt); final=${final%.*}
[ "$first" -ge "$start_s" ] && [ "$final" -le "$end_s" ] \
  || fail "timestamps $first..$final outside the run $start_s..$end_s"
say "ok: $(wc -l < times.txt) frames, both directions ($from_board from, $to_board to the board), times in order"

# SIGHUP: the old file is complete, a new one starts under the same name.
board_start --pcap "$WORK/cap.pcap" --key
mv cap.pcap cap.1.pcap
log_mark
kill -HUP "$IAPD_PID"
board_wait "net: SIGHUP: packet capture $WORK/cap.pcap reopened" 5
[ -s cap.pcap ] || fail "SIGHUP: no new cap.pcap"
# A read request, which the board refuses with an ERROR: two packets on port 69 and back.
timeout 10 curl -sS "tftp://$TFTP_HOST:$TFTP_PORT/nothing.bin" > /dev/null 2>&1 \
  && fail "a TFTP read request succeeded"
sleep 0.2
board_stop
tcpdump -r cap.pcap -nn udp 2>/dev/null > rrq.txt
grep -qE "IP $HOST_IP\.[0-9]+ > $BOARD_IP\.69: TFTP, length [0-9]+, RRQ \"nothing.bin\"" rrq.txt \
  || fail "the new file does not hold the RRQ: $(cat rrq.txt)"
grep -qE "IP $BOARD_IP\.[0-9]+ > $HOST_IP\.[0-9]+: UDP, length [0-9]+" rrq.txt \
  || fail "the new file does not hold the board's ERROR: $(cat rrq.txt)"
tcpdump -r cap.1.pcap -nn 2>/dev/null | grep -q RRQ && fail "the rotated file got the RRQ"
tcpdump -r cap.1.pcap -nn > /dev/null 2>&1 || fail "the rotated file is not a readable capture"
say "ok: SIGHUP: a new capture file, the old one complete"

# A capture file that cannot be written: exit 1, with the reason, before any TAP exists.
out=$(timeout 10 "$IAPD" -f "${BOARD_NET_ARGS[@]}" --flash "$WORK/flash.bin" \
  --pcap "$WORK/no/such/dir/x.pcap" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "--pcap into a missing directory: exit $rc, expected 1: $out"
grep -qF "net: error: cannot write the packet capture: $WORK/no/such/dir/x.pcap: No such file or directory" <<<"$out" \
  || fail "--pcap into a missing directory: $out"
[ "$BACKEND" = tap ] && ip link show tap0 >/dev/null 2>&1 && fail "a bad --pcap still created tap0"
grep -q "user-mode networking" <<<"$out" && fail "a bad --pcap still started slirp"
say "ok: --pcap into a missing directory: exit 1 ($(tail -n 1 <<<"$out"))"
exit 0
