#!/usr/bin/env python3
"""Clients that misbehave on purpose, for the HTTP IAP integration tests.

    http_raw.py request FILE            send FILE's bytes as they are, print the answer
    http_raw.py partial IMAGE MODE ...  start an upload of IMAGE, send part of it, then stop
    http_raw.py tftp-hold IMAGE         start a TFTP upload, send one block, hold it

Every socket has a time limit; nothing here loops without a bound. Run inside the test's
network namespace only (the board is 192.168.0.10), or against the forwards of iapd --user-net
(--board 127.0.0.1 --http-port N --tftp-port M).
"""
import argparse
import base64
import socket
import struct
import sys
import time

BOARD = "192.168.0.10"
HTTP_PORT = 80
TFTP_PORT = 69


def recv_all(sock, limit_s):
    """Everything the server sends until it closes (or limit_s passes)."""
    sock.settimeout(limit_s)
    data = b""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            data += b"<RST>"
            break
        if not chunk:
            break
        data += chunk
    return data


def cmd_request(args):
    payload = open(args.file, "rb").read()
    with socket.create_connection((BOARD, HTTP_PORT), timeout=10) as s:
        s.sendall(payload)
        if args.shut:
            s.shutdown(socket.SHUT_WR)
        sys.stdout.buffer.write(recv_all(s, args.wait))


def cmd_partial(args):
    image = open(args.image, "rb").read()
    if args.form:
        boundary = "----iapdTestBoundary7x"
        head_part = ("--%s\r\nContent-Disposition: form-data; name=\"datafile\"; "
                     "filename=\"app.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                     % boundary).encode()
        body = head_part + image + ("\r\n--%s--\r\n" % boundary).encode()
        if args.no_close_boundary:
            body = head_part + image
        head = ("POST /upload.cgi HTTP/1.1\r\nHost: %s\r\nCookie: iapd_session=%s\r\n"
                "Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n"
                % (BOARD, args.cookie, boundary, len(body)))
    else:
        body = image
        auth = base64.b64encode(args.auth.encode()).decode()
        head = ("PUT /firmware HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
                "Content-Length: %d\r\n\r\n" % (BOARD, auth, len(body)))
    count = len(body) if args.send is None else args.send
    s = socket.create_connection((BOARD, HTTP_PORT), timeout=10)
    s.sendall(head.encode() + body[:count])
    if args.then == "reset":
        # SO_LINGER 0: close() sends RST, as a crashed or killed client would
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print("reset after %d of %d body bytes" % (count, len(body)))
    elif args.then == "close":
        s.shutdown(socket.SHUT_WR)
        answer = recv_all(s, 5)
        s.close()
        print("closed after %d of %d body bytes" % (count, len(body)))
        sys.stdout.write(answer.decode("latin-1"))
    elif args.then == "answer":
        answer = recv_all(s, 10)
        s.close()
        sys.stdout.write(answer.decode("latin-1"))
    else:  # hold
        print("holding after %d of %d body bytes" % (count, len(body)), flush=True)
        # until the test closes our standard input, at most args.hold seconds
        s.settimeout(args.hold)
        try:
            sys.stdin.read()
        finally:
            s.close()


def cmd_tftp_hold(args):
    image = open(args.image, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"\x00\x02app.bin\x00octet\x00", (BOARD, TFTP_PORT))
    pkt, peer = s.recvfrom(600)
    if pkt[:2] != b"\x00\x04":
        sys.exit("tftp-hold: no ACK 0: %r" % pkt)
    s.sendto(b"\x00\x03\x00\x01" + image[:512], peer)
    pkt, _ = s.recvfrom(600)
    if pkt[:4] != b"\x00\x04\x00\x01":
        sys.exit("tftp-hold: no ACK 1: %r" % pkt)
    print("holding a TFTP transfer after block 1", flush=True)
    sys.stdin.read()  # until the test closes our standard input
    s.sendto(b"\x00\x05\x00\x00test over\x00", peer)
    s.close()


def main():
    global BOARD, HTTP_PORT, TFTP_PORT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default=BOARD, help="where the board's ports are reached")
    ap.add_argument("--http-port", type=int, default=HTTP_PORT)
    ap.add_argument("--tftp-port", type=int, default=TFTP_PORT)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("request")
    r.add_argument("file")
    r.add_argument("--wait", type=float, default=5)
    r.add_argument("--shut", action="store_true", help="half-close after sending")
    p = sub.add_parser("partial")
    p.add_argument("image")
    p.add_argument("then", choices=["reset", "close", "hold", "answer"])
    p.add_argument("--send", type=int, help="body bytes to send (default: all)")
    p.add_argument("--form", action="store_true", help="POST /upload.cgi instead of PUT")
    p.add_argument("--cookie", default="")
    p.add_argument("--auth", default="user:stm32")
    p.add_argument("--no-close-boundary", action="store_true")
    p.add_argument("--hold", type=float, default=30)
    t = sub.add_parser("tftp-hold")
    t.add_argument("image")
    args = ap.parse_args()
    BOARD, HTTP_PORT, TFTP_PORT = args.board, args.http_port, args.tftp_port
    {"request": cmd_request, "partial": cmd_partial, "tftp-hold": cmd_tftp_hold}[args.cmd](args)


if __name__ == "__main__":
    main()
