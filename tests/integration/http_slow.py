#!/usr/bin/env python3
"""Slow HTTP clients, many at once, for the HTTP IAP integration tests.

    http_slow.py --clients 32 --seconds 40 [--interval 1]

Each client holds a connection to the board and sends as little as it can: a third trickle a
request head one byte at a time, a third send a whole head and then trickle its body, a third
open a connection and send nothing. When the board closes or resets a connection, the client
opens a new one after a short pause, so the pressure stays on for the whole run. At the end
it prints one line of counts: connections opened, answers 408 read, resets, refused
connects. Bounded: --seconds of wall time, one select() loop, no threads. Run inside the
test's network namespace only (the board is 192.168.0.10).
"""
import argparse
import errno
import selectors
import socket
import time

BOARD = "192.168.0.10"
REOPEN_PAUSE_S = 0.5

HEAD_START = b"GET / HTTP/1.1\r\nHost: " + BOARD.encode() + b"\r\nX-Slow: "
BODY_HEAD = (b"POST /checklogin.cgi HTTP/1.1\r\nHost: " + BOARD.encode() +
             b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             b"Content-Length: 200\r\n\r\n")


class Client:
    def __init__(self, kind):
        self.kind = kind          # "head", "body" or "idle"
        self.sock = None
        self.next_send = 0.0
        self.reopen_at = 0.0
        self.answer = b""
        self.started = False      # the first bytes (a head's start, a whole head) are sent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--interval", type=float, default=1.0,
                    help="seconds between the bytes a client trickles")
    args = ap.parse_args()

    sel = selectors.DefaultSelector()
    clients = [Client(("head", "body", "idle")[i % 3]) for i in range(args.clients)]
    counts = {"opened": 0, "answered_408": 0, "reset": 0, "refused": 0}
    end = time.monotonic() + args.seconds

    def close(c, now):
        if c.sock is not None:
            sel.unregister(c.sock)
            c.sock.close()
            c.sock = None
        if b" 408 " in c.answer.split(b"\r\n", 1)[0]:
            counts["answered_408"] += 1
        c.answer = b""
        c.reopen_at = now + REOPEN_PAUSE_S

    def open_(c, now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((BOARD, 80))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            counts["refused"] += 1
            c.reopen_at = now + REOPEN_PAUSE_S
            return
        c.sock = s
        c.next_send = now  # the first bytes at once, once connected
        c.answer = b""
        c.started = False
        counts["opened"] += 1
        sel.register(s, selectors.EVENT_READ, c)

    def first_bytes(c):
        if c.kind == "head":
            return HEAD_START
        if c.kind == "body":
            return BODY_HEAD
        return b""

    while True:
        now = time.monotonic()
        if now >= end:
            break
        for c in clients:
            if c.sock is None and now >= c.reopen_at:
                open_(c, now)
            elif c.sock is not None and c.kind != "idle" and now >= c.next_send:
                data = b"a" if c.started else first_bytes(c)
                try:
                    c.sock.send(data)
                    c.started = True
                    c.next_send = now + args.interval
                except BlockingIOError:
                    c.next_send = now + 0.05  # still connecting
                except (ConnectionResetError, BrokenPipeError):
                    counts["reset"] += 1
                    close(c, now)
                except OSError as e:
                    if e.errno in (errno.ENOTCONN, errno.EAGAIN):
                        c.next_send = now + 0.05
                    else:
                        counts["refused"] += 1
                        close(c, now)
        for key, _ in sel.select(timeout=0.05):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
            except ConnectionResetError:
                counts["reset"] += 1
                close(c, time.monotonic())
                continue
            except ConnectionRefusedError:
                counts["refused"] += 1
                close(c, time.monotonic())
                continue
            except OSError:
                counts["refused"] += 1
                close(c, time.monotonic())
                continue
            if not chunk:
                close(c, time.monotonic())
            else:
                c.answer += chunk
    for c in clients:
        if c.sock is not None:
            c.sock.close()
    print("opened %(opened)d answered_408 %(answered_408)d reset %(reset)d refused %(refused)d"
          % counts, flush=True)


if __name__ == "__main__":
    main()
