#!/usr/bin/env python3
"""What one TFTP write transfer looked like on the wire, from iapd's --pcap capture.

    tftp_pcap.py CAPTURE CLIENT_PORT

Finds the last write request (WRQ) sent from CLIENT_PORT to port 69, the port the board
answered it from (its TID), and every packet between the two after it, and prints one line:

    wrq=OPTIONS answer=OACK:OPTIONS|ACK0 data=N sizes=SIZE*COUNT,... acks=N errors=N other=N

OPTIONS are the option pairs as sent, "name=value" joined by ",", or "-" for none; the
OACK's are written the same way, byte for byte (names and values hold no "=" or ","), so a
test that compares the line compares the packet. sizes counts the DATA payload sizes, the
largest first. acks counts the board's ACKs after its first answer. Standard library only.
"""

import struct
import sys

OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK = 2, 3, 4, 5, 6


def udp_packets(path):
    """(src ip, src port, dst ip, dst port, payload) of every unfragmented IPv4/UDP frame."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        raise SystemExit("%s: not a pcap file (%d bytes)" % (path, len(raw)))
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit("%s: not a pcap file (magic %s)" % (path, magic.hex()))
    linktype = struct.unpack(endian + "I", raw[20:24])[0]
    if linktype != 1:
        raise SystemExit("%s: link type %d, expected 1 (Ethernet)" % (path, linktype))
    off = 24
    while off + 16 <= len(raw):
        incl = struct.unpack(endian + "I", raw[off + 8:off + 12])[0]
        frame = raw[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        flags_offset = struct.unpack(">H", ip[6:8])[0]
        if ip[9] != 17 or flags_offset & 0x3FFF:
            continue
        total = struct.unpack(">H", ip[2:4])[0]
        udp = ip[ihl:total]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield (ip[12:16], sport, ip[16:20], dport, bytes(udp[8:ulen]))


def options(fields):
    """"name=value,..." from a list of NUL-separated strings (pairs), or "-"."""
    pairs = ["%s=%s" % (fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
    return ",".join(pairs) if pairs else "-"


def strings(payload):
    text = payload.decode("latin-1")
    if not text.endswith("\0"):
        return None
    return text[:-1].split("\0")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: tftp_pcap.py CAPTURE CLIENT_PORT")
    client = int(sys.argv[2])
    packets = list(udp_packets(sys.argv[1]))
    start = None
    for i, (_, sport, _, dport, payload) in enumerate(packets):
        if sport == client and dport == 69 and payload[:2] == struct.pack(">H", OP_WRQ):
            start = i
    if start is None:
        raise SystemExit("no WRQ from port %d in %s" % (client, sys.argv[1]))
    fields = strings(packets[start][4][2:])
    if fields is None or len(fields) < 2:
        raise SystemExit("malformed WRQ from port %d" % client)
    wrq = options(fields[2:])

    tid = None
    answer = "none"
    data = {}
    ndata = acks = errors = other = 0
    for _, sport, _, dport, payload in packets[start + 1:]:
        if tid is None:
            if dport == client and sport != 69:
                tid = sport
                op = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
                if op == OP_OACK:
                    oack = strings(payload[2:])
                    answer = "OACK:" + (options(oack) if oack is not None else "malformed")
                elif payload == b"\x00\x04\x00\x00":
                    answer = "ACK0"
                else:
                    answer = "other:" + payload.hex()
            continue
        if {sport, dport} != {client, tid}:
            continue
        op = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
        if sport == client and op == OP_DATA:
            ndata += 1
            data[len(payload) - 4] = data.get(len(payload) - 4, 0) + 1
        elif sport == tid and op == OP_ACK and len(payload) == 4:
            acks += 1
        elif op == OP_ERROR:
            errors += 1
        else:
            other += 1
    sizes = ",".join("%d*%d" % (size, data[size]) for size in sorted(data, reverse=True))
    print("wrq=%s answer=%s data=%d sizes=%s acks=%d errors=%d other=%d"
          % (wrq, answer, ndata, sizes or "-", acks, errors, other))
    return 0


if __name__ == "__main__":
    sys.exit(main())
