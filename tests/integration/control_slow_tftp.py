#!/usr/bin/env python3
"""A TFTP client that uploads slowly on purpose, so that a test can watch the board page and
the event stream while a transfer is in progress.

    control_slow_tftp.py HOST FILE [--port PORT] [--delay SECONDS] [--tsize]

Sends a WRQ (with the tsize option when asked, so that the board knows the size and shows a
percentage), then each 512-byte block after DELAY seconds, waiting for its ACK (re-sent up
to 5 times, 1 s apart). Exit status 0 when the last block is acknowledged, 1 otherwise.
Standard library only; run it only inside the test's network namespace, or against a forward
of iapd --user-net on 127.0.0.1 (--port).
"""

import argparse
import socket
import struct
import sys
import time

OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK = 2, 3, 4, 5, 6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("file")
    ap.add_argument("--port", type=int, default=69, help="the board's TFTP port, or a forward")
    ap.add_argument("--delay", type=float, default=0.02)
    ap.add_argument("--tsize", action="store_true")
    args = ap.parse_args()

    data = open(args.file, "rb").read()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    wrq = struct.pack("!H", OP_WRQ) + b"app.bin\0octet\0"
    if args.tsize:
        wrq += b"tsize\0" + str(len(data)).encode() + b"\0"

    def exchange(pkt, to, want_block):
        """Sends pkt until the ACK of want_block (or an OACK for block 0) arrives."""
        for _ in range(6):
            sock.sendto(pkt, to)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                try:
                    reply, peer = sock.recvfrom(1024)
                except socket.timeout:
                    break
                op = struct.unpack("!H", reply[:2])[0]
                if op == OP_ERROR:
                    code = struct.unpack("!H", reply[2:4])[0]
                    sys.exit("board sent ERROR %d: %r" % (code, reply[4:]))
                if op == OP_ACK and struct.unpack("!H", reply[2:4])[0] == want_block:
                    return peer
                if op == OP_OACK and want_block == 0:
                    return peer
        sys.exit("no ACK for block %d" % want_block)

    peer = exchange(wrq, (args.host, args.port), 0)
    blocks = len(data) // 512 + 1
    for n in range(1, blocks + 1):
        time.sleep(args.delay)
        chunk = data[(n - 1) * 512:n * 512]
        exchange(struct.pack("!HH", OP_DATA, n & 0xFFFF) + chunk, peer, n & 0xFFFF)
    return 0


if __name__ == "__main__":
    sys.exit(main())
