#!/usr/bin/env python3
"""A connection flood against the control server, and status requests through it.

    control_flood.py [--port 8069] [--connections 100] [--seconds 6]

Opens --connections connections to 127.0.0.1:PORT at once: a third send nothing, a third
trickle a request head a byte every half second, a third send "GET /api/flash" and never
read the answer. One second later it counts those the server still holds open. Then, for
--seconds, it keeps them coming (each one the server closes is opened again at once) and
asks GET /api/status every half second on a connection of its own, with a 3 s limit.
Prints one line:
    opened N open_after_1s M status_ok K status_failed F [why a status failed]...
Bounded in time and count; run it inside the test's network namespace (loopback only).
"""
import argparse
import errno
import selectors
import socket
import time

HOST = "127.0.0.1"
REOPEN_PAUSE_S = 0.02  # a closed connection is opened again this soon: 5000 a second at most


def status_ok(port):
    """GET /api/status on a new connection: None when a 200 with a body came within 3 s,
    else what went wrong."""
    start = time.monotonic()
    data = b""
    try:
        with socket.create_connection((HOST, port), timeout=3) as s:
            s.settimeout(3)
            s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            deadline = start + 3
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        return "%s after %.2f s" % (type(e).__name__, time.monotonic() - start)
    if data.startswith(b"HTTP/1.1 200 ") and b'"board"' in data:
        return None
    return "%d bytes (%r) after %.2f s" % (len(data), data[:12], time.monotonic() - start)


class Holder:
    def __init__(self, kind):
        self.kind = kind          # "silent", "trickle", "no-read"
        self.sock = None
        self.next_send = 0.0
        self.sent = 0
        self.reopen_at = 0.0


HEAD = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8069)
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=6)
    args = ap.parse_args()

    sel = selectors.DefaultSelector()
    holders = [Holder(("silent", "trickle", "no-read")[i % 3]) for i in range(args.connections)]
    counts = {"opened": 0, "ok": 0, "failed": 0}

    def open_(h):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        # a small receive buffer: a no-read client fills it soon and stalls the server's send
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        err = s.connect_ex((HOST, args.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return
        h.sock, h.sent, h.next_send = s, 0, time.monotonic() + 0.05
        counts["opened"] += 1
        sel.register(s, selectors.EVENT_READ, h)

    def close(h):
        sel.unregister(h.sock)
        h.sock.close()
        h.sock = None
        h.reopen_at = time.monotonic() + REOPEN_PAUSE_S

    def pump(until, reopen):
        while time.monotonic() < until:
            now = time.monotonic()
            for h in holders:
                if h.sock is None:
                    if reopen and now >= h.reopen_at:
                        open_(h)
                    continue
                if now < h.next_send:
                    continue
                try:
                    if h.kind == "trickle" and h.sent < len(HEAD):
                        h.sock.send(HEAD[h.sent:h.sent + 1])
                        h.sent += 1
                        h.next_send = now + 0.5
                    elif h.kind == "no-read" and h.sent == 0:
                        h.sock.send(b"GET /api/flash HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        h.sent = 1
                        h.next_send = now + 3600
                    else:
                        h.next_send = now + 3600
                except (BlockingIOError, InterruptedError):
                    h.next_send = now + 0.05
                except OSError:
                    close(h)
            for key, _ in sel.select(timeout=0.02):
                h = key.data
                if h.kind == "no-read":
                    # never read the answer; only notice a close (a reset or an EOF)
                    try:
                        if h.sock.recv(1, socket.MSG_PEEK) == b"":
                            close(h)
                    except BlockingIOError:
                        pass
                    except OSError:
                        close(h)
                    continue
                try:
                    if h.sock.recv(65536) == b"":
                        close(h)
                except BlockingIOError:
                    pass
                except OSError:
                    close(h)

    for h in holders:
        open_(h)
    pump(time.monotonic() + 1.0, reopen=False)
    open_after = sum(1 for h in holders if h.sock is not None)

    end = time.monotonic() + args.seconds
    failures = []
    while time.monotonic() < end:
        why = status_ok(args.port)
        if why is None:
            counts["ok"] += 1
        else:
            counts["failed"] += 1
            failures.append(why)
        pump(time.monotonic() + 0.5, reopen=True)
    for h in holders:
        if h.sock is not None:
            h.sock.close()
    print("opened %d open_after_1s %d status_ok %d status_failed %d%s"
          % (counts["opened"], open_after, counts["ok"], counts["failed"],
             "".join(" [%s]" % f for f in failures)), flush=True)


if __name__ == "__main__":
    main()
