#!/usr/bin/env python3
"""A scripted TFTP client that misbehaves on purpose, to check iapd's TFTP server.

Each scenario drives one upload (or a few packets) against the board, asserts every packet the
board sends back byte for byte and counts them, then reads the flash file to check what landed
in the user flash. A deviation ends the run with exit status 1 and a message that says which
scenario, which packet and what was expected. Standard library only.

The expectations are those of src/tftp_core.h with the defaults of src/tftp_opts.h:
TFTP_TIMEOUT_MS 1000, TFTP_MAX_RETRIES 5, TFTP_DALLY_MS 6000, TFTP_DUP_ACK_HOLDOFF_MS 200,
TFTP_BLKSIZE_MAX 1468, and iapd's default --tftp-max-windowsize 64. The option scenarios
(RFC 2347, 2348, 2349, 7440) follow iapd(8): unknown options and bad values are left out of
the OACK, never answered with ERROR 8.

Run it only as tftp_chaos.sh does: inside a network namespace of its own, where the board's
address must not be reachable from the machine's own namespace, or against a forward of iapd
--user-net on 127.0.0.1 (--server 127.0.0.1 --port N), where the board answers, as through any
NAT, from another host port for each transfer.
"""

import argparse
import hashlib
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

# RFC 1350, RFC 2347
OP_RRQ, OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK = 1, 2, 3, 4, 5, 6
EUNDEF, EACCESS, ENOSPACE, EBADOP, EBADID, EOPTNEG = 0, 2, 3, 4, 5, 8
BLOCK_SIZE = 512
BLKSIZE_MAX = 1468      # src/tftp_opts.h: one Ethernet frame
WINDOWSIZE_MAX = 64     # iapd's default --tftp-max-windowsize
USER_FLASH_SIZE = 0x100000 - 0x10000 - 128  # 960 KiB less the record area: the largest image

# src/tftp_opts.h defaults, in seconds
TIMEOUT_S = 1.0
MAX_RETRIES = 5
DALLY_S = 6.0
HOLDOFF_S = 0.2

# The window in which a re-send "on the server's own timeout" is accepted. This checks
# behaviour, not timing precision: a loaded test machine must not fail it.
REXMIT_MIN_S, REXMIT_MAX_S = 0.8, 2.5

# How long to listen for a packet that must not come.
SILENCE_S = 0.5
# How long to wait for a packet that must come promptly (an answer to our packet).
REPLY_S = 2.0

USER_FLASH_OFFSET = 0x10000      # 0x08010000 in the flash file
SECTOR4_END = 0x20000            # sector 4 is 64 KiB: 0x08010000-0x0801FFFF
FLASH_SIZE = 1024 * 1024
RECORD_OFFSET = FLASH_SIZE - 128  # the single slot's commit record and its metadata area


def commit_record(img, seq):
    """The 128-byte record area after an upload of img (src/image_record.h): the 64-byte
    record with sequence number seq, then 64 erased bytes."""
    rec = struct.pack("<IHHIIII", 0x52504149, 1, 64, 0x08010000, len(img), 0, seq)
    rec += hashlib.sha256(img).digest()
    rec += struct.pack("<I", zlib.crc32(rec)) + b"CMMT"
    return rec + b"\xff" * 64
FILENAME = b"app.bin"


class Deviation(Exception):
    """The board did something other than what the scenario expects."""


def hexdump(data, limit=48):
    text = data[:limit].hex(" ")
    return text + (" ... (%d bytes)" % len(data) if len(data) > limit else "")


def ack(block):
    return struct.pack(">HH", OP_ACK, block & 0xFFFF)


def data(block, payload):
    return struct.pack(">HH", OP_DATA, block & 0xFFFF) + payload


def wrq(filename=FILENAME, mode=b"octet", options=()):
    """A WRQ; options are (name, value) byte strings, sent as given."""
    return (struct.pack(">H", OP_WRQ) + filename + b"\0" + mode + b"\0"
            + b"".join(n + b"\0" + v + b"\0" for n, v in options))


def oack(options):
    """The OACK naming (name, value) byte strings, in that order."""
    return struct.pack(">H", OP_OACK) + b"".join(n + b"\0" + v + b"\0" for n, v in options)


def describe(pkt):
    """A short human description of a TFTP packet, for messages."""
    if len(pkt) < 2:
        return "runt packet %s" % hexdump(pkt)
    op = struct.unpack(">H", pkt[:2])[0]
    if op == OP_ACK and len(pkt) == 4:
        return "ACK %d" % struct.unpack(">H", pkt[2:4])[0]
    if op == OP_DATA and len(pkt) >= 4:
        return "DATA %d (%d bytes)" % (struct.unpack(">H", pkt[2:4])[0], len(pkt) - 4)
    if op == OP_ERROR and len(pkt) >= 5:
        return "ERROR %d %r" % (struct.unpack(">H", pkt[2:4])[0], pkt[4:])
    if op == OP_OACK:
        return "OACK %r" % pkt[2:]
    return "packet %s" % hexdump(pkt)


def check_error(pkt, code, contains, what):
    """pkt must be ERROR `code` with one printable, NUL-terminated message (RFC 1350: ErrMsg
    is netascii), containing `contains` unless None. Returns the message."""
    if len(pkt) < 5 or pkt[:2] != struct.pack(">H", OP_ERROR):
        raise Deviation("%s: expected ERROR %d, got %s [%s]"
                        % (what, code, describe(pkt), hexdump(pkt)))
    if pkt[2:4] != struct.pack(">H", code):
        raise Deviation("%s: expected ERROR code %d, got %s" % (what, code, describe(pkt)))
    msg = pkt[4:]
    if msg[-1:] != b"\0" or b"\0" in msg[:-1] or len(msg) < 2:
        raise Deviation("%s: ERROR message is not one non-empty NUL-terminated string: %s"
                        % (what, hexdump(pkt)))
    if any(b < 0x20 or b > 0x7E for b in msg[:-1]):
        raise Deviation("%s: ERROR message has non-printable bytes: %r" % (what, msg[:-1]))
    text = msg[:-1].decode("ascii")
    if contains is not None and contains not in text:
        raise Deviation("%s: ERROR message %r does not contain %r" % (what, text, contains))
    return text


def split_blocks(image, size=BLOCK_SIZE):
    """The DATA payloads of an upload: blocks of `size`, then a shorter (maybe empty) last one."""
    blocks = [image[i:i + size] for i in range(0, len(image), size)]
    if not blocks or len(blocks[-1]) == size:
        blocks.append(b"")
    return blocks  # blocks[0] is block 1


class Client:
    """One UDP socket of a TFTP client, with the board's replies timestamped."""

    def __init__(self, ctx, name):
        self.ctx = ctx
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))
        self.port = self.sock.getsockname()[1]
        self.session = None  # the board's port for this client's transfer, once known
        self.received = []   # (time, source port, packet), every packet this socket got

    def close(self):
        self.sock.close()

    def give_up(self):
        """Ends this client's transfer on the board (RFC 1350: an ERROR ends it), so that a
        failed scenario does not leave the board busy for the next one. Sent to every port
        the board answered from: a broken server may have opened more than one."""
        ports = {src for _, src, _ in self.received} | {self.session}
        for port in ports - {None, self.ctx.tftp_port}:
            try:
                self.send(struct.pack(">HH", OP_ERROR, EUNDEF) + b"tftp_chaos gave up\0", port)
            except OSError:
                pass

    def send(self, pkt, port):
        self.sock.sendto(pkt, (self.ctx.server, port))

    def recv(self, timeout):
        """The next packet from the board within timeout seconds: (time, port, pkt), or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                pkt, (ip, port) = self.sock.recvfrom(2048)
            except socket.timeout:
                return None
            now = time.monotonic()
            if ip != self.ctx.server:
                raise Deviation("%s: packet from %s:%d, not from the board %s: %s"
                                % (self.name, ip, port, self.ctx.server, describe(pkt)))
            self.received.append((now, port, pkt))
            return now, port, pkt

    def expect(self, expected, port, what, timeout=REPLY_S):
        """Receives exactly `expected` from the board's `port` (any port when None)."""
        got = self.recv(timeout)
        if got is None:
            raise Deviation("%s: %s: no reply within %.1f s (expected %s from port %s)"
                            % (self.name, what, timeout, describe(expected), port))
        now, src, pkt = got
        if pkt != expected:
            raise Deviation("%s: %s: expected %s [%s], got %s [%s] from port %d"
                            % (self.name, what, describe(expected), hexdump(expected),
                               describe(pkt), hexdump(pkt), src))
        if port is not None and src != port:
            raise Deviation("%s: %s: %s came from port %d, expected the transfer's port %d"
                            % (self.name, what, describe(pkt), src, port))
        return now, src

    def expect_error(self, code, what, port=None, not_ports=(), contains=None,
                     timeout=REPLY_S):
        """Receives a well-formed ERROR with `code`; returns (port, message)."""
        got = self.recv(timeout)
        if got is None:
            raise Deviation("%s: %s: no reply within %.1f s (expected ERROR %d)"
                            % (self.name, what, timeout, code))
        _, src, pkt = got
        text = check_error(pkt, code, contains, "%s: %s" % (self.name, what))
        if port is not None and src != port:
            raise Deviation("%s: %s: ERROR came from port %d, expected %d"
                            % (self.name, what, src, port))
        if src in not_ports:
            raise Deviation("%s: %s: ERROR came from port %d, which it must not (ports %s)"
                            % (self.name, what, src, sorted(not_ports)))
        return src, text

    def expect_silence(self, duration, what):
        """Nothing may arrive for `duration` seconds."""
        got = self.recv(duration)
        if got is not None:
            raise Deviation("%s: %s: expected nothing for %.1f s, got %s from port %d"
                            % (self.name, what, duration, describe(got[2]), got[1]))

    def start(self, what="WRQ"):
        """Sends a WRQ to port 69 and returns the transfer's port from its ACK 0."""
        self.send(wrq(), self.ctx.tftp_port)
        got = self.recv(REPLY_S)
        if got is None:
            raise Deviation("%s: %s: no ACK 0 within %.1f s" % (self.name, what, REPLY_S))
        _, src, pkt = got
        if pkt != ack(0):
            raise Deviation("%s: %s: expected ACK 0 [%s], got %s [%s]"
                            % (self.name, what, hexdump(ack(0)), describe(pkt), hexdump(pkt)))
        if src == self.ctx.tftp_port:
            raise Deviation("%s: %s: ACK 0 came from port 69; the transfer needs a TID of its "
                            "own (RFC 1350 section 4)" % (self.name, what))
        self.session = src
        return src

    def start_with(self, options, expected, what="WRQ with options"):
        """Sends a WRQ with options to port 69; the board must answer exactly `expected` (an
        OACK, or ACK 0) from a port of the transfer's own. Returns that port."""
        self.send(wrq(options=options), self.ctx.tftp_port)
        now, src = self.expect(expected, None, what)
        if src == self.ctx.tftp_port:
            raise Deviation("%s: %s: the answer came from port 69; the transfer needs a TID of "
                            "its own (RFC 1350 section 4)" % (self.name, what))
        self.session = src
        return src

    def window(self, port, blocks, numbers, expected_acks, what):
        """Sends the DATA blocks `numbers` (1-based, any order, repeats allowed) back to back,
        then must receive exactly the ACKs `expected_acks`, in order, and nothing more."""
        for n in numbers:
            self.send(data(n, blocks[n - 1]), port)
        for a in expected_acks:
            self.expect(ack(a), port, "%s: ACK %d" % (what, a))
        self.expect_silence(SILENCE_S, "%s: after ACK %s" % (what, expected_acks[-1]
                                                               if expected_acks else "-"))

    def run_windows(self, port, blocks, size, first=1):
        """Sends blocks first.. in windows of `size` as an RFC 7440 client does, each window
        answered by exactly one ACK of its last block (the last block of the file ends one)."""
        n = first
        while n <= len(blocks):
            last = min(n + size - 1, len(blocks))
            for k in range(n, last + 1):
                self.send(data(k, blocks[k - 1]), port)
            self.expect(ack(last), port, "ACK of the window %d-%d" % (n, last))
            n = last + 1

    def step(self, port, block, payload):
        """Sends DATA `block` and expects exactly its ACK from the transfer's port."""
        self.send(data(block, payload), port)
        return self.expect(ack(block), port, "ACK of DATA %d" % block)

    def run(self, port, blocks, first=1, last=None):
        """Sends blocks first..last (1-based, inclusive) in lock-step."""
        last = len(blocks) if last is None else last
        for n in range(first, last + 1):
            self.step(port, n, blocks[n - 1])


class Context:
    def __init__(self, args):
        self.server = args.server
        self.tftp_port = args.port
        self.flash_path = args.flash
        self.log_path = args.log
        self.mkimage = args.mkimage
        self.workdir = args.workdir
        self.seed = 100
        self.clients = []

    def client(self, name):
        c = Client(self, name)
        self.clients.append(c)
        return c

    def close_clients(self, give_up=False):
        for c in self.clients:
            if give_up:
                c.give_up()
            c.close()
        self.clients = []

    def image(self, size):
        """A valid application image of `size` bytes from mkimage, a new seed each time."""
        self.seed += 1
        path = os.path.join(self.workdir, "chaos-%d-%d.bin" % (size, self.seed))
        cmd = [self.mkimage, "--link", "0x08010000", "--size", str(size),
               "--seed", str(self.seed), "-o", path]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if r.returncode != 0:
            raise Deviation("mkimage failed (%d): %s: %s"
                            % (r.returncode, " ".join(cmd), r.stdout.decode(errors="replace")))
        with open(path, "rb") as f:
            img = f.read()
        if len(img) != size:
            raise Deviation("mkimage wrote %d bytes, asked for %d" % (len(img), size))
        return img

    def flash(self):
        with open(self.flash_path, "rb") as f:
            content = f.read()
        if len(content) != FLASH_SIZE:
            raise Deviation("flash file %s is %d bytes, expected %d"
                            % (self.flash_path, len(content), FLASH_SIZE))
        return content

    def check_flash_image(self, img, before, what):
        """The user flash holds exactly img, the rest of sector 4 is erased and nothing outside
        sector 4 changed since `before` (a snapshot of the flash file)."""
        now = self.flash()
        got = now[USER_FLASH_OFFSET:USER_FLASH_OFFSET + len(img)]
        if got != img:
            first = next(i for i in range(len(img)) if got[i] != img[i])
            raise Deviation("%s: flash differs from the image at 0x%08x: read %s, expected %s"
                            % (what, 0x08000000 + USER_FLASH_OFFSET + first,
                               hexdump(got[first:first + 16]), hexdump(img[first:first + 16])))
        rest = now[USER_FLASH_OFFSET + len(img):SECTOR4_END]
        if rest.count(0xFF) != len(rest):
            off = USER_FLASH_OFFSET + len(img) + next(i for i, b in enumerate(rest) if b != 0xFF)
            raise Deviation("%s: sector 4 after the %d-byte image is not erased: 0x%08x reads "
                            "0x%02x" % (what, len(img), 0x08000000 + off, now[off]))
        self.check_flash_outside(before, now, what, img)
        print("  ok: flash holds the %d-byte image at 0x08010000, rest of sector 4 erased, "
              "its commit record, nothing else changed" % len(img))

    def check_flash_big(self, img, before, what):
        """Like check_flash_image for an image past sector 4: the image, the rest of its last
        sector erased, the bootloader and the sectors after it unchanged."""
        now = self.flash()
        got = now[USER_FLASH_OFFSET:USER_FLASH_OFFSET + len(img)]
        if got != img:
            first = next(i for i in range(len(img)) if got[i] != img[i])
            raise Deviation("%s: flash differs from the image at 0x%08x"
                            % (what, 0x08000000 + USER_FLASH_OFFSET + first))
        end = USER_FLASH_OFFSET + len(img)
        sector_end = SECTOR4_END
        while sector_end < end:
            sector_end += 0x20000  # sectors 5 to 11: 128 KiB
        if now[end:min(sector_end, RECORD_OFFSET)].count(0xFF) != min(sector_end, RECORD_OFFSET) - end:
            raise Deviation("%s: the last sector after the image is not erased" % what)
        if now[:USER_FLASH_OFFSET] != before[:USER_FLASH_OFFSET] \
                or now[sector_end:RECORD_OFFSET] != before[sector_end:RECORD_OFFSET]:
            raise Deviation("%s: flash outside the image's sectors changed" % what)
        self.check_record(now, what, img)
        print("  ok: flash holds the %d-byte image at 0x08010000, rest of its last sector "
              "erased, nothing else changed" % len(img))

    def check_flash_outside(self, before, now, what, img=None):
        """Nothing changed outside sector 4 but the record area, which every upload erases
        first: after a complete upload of img it holds img's commit record (any sequence
        number), after an upload that did not complete it is erased."""
        for lo, hi in ((0, USER_FLASH_OFFSET), (SECTOR4_END, RECORD_OFFSET)):
            if before[lo:hi] != now[lo:hi]:
                off = lo + next(i for i in range(hi - lo) if before[lo + i] != now[lo + i])
                raise Deviation("%s: flash outside sector 4 changed at 0x%08x: 0x%02x -> 0x%02x"
                                % (what, 0x08000000 + off, before[off], now[off]))
        self.check_record(now, what, img)

    def check_record(self, now, what, img):
        area = now[RECORD_OFFSET:]
        if img is None:
            want = b"\xff" * len(area)
        else:
            want = commit_record(img, struct.unpack_from("<I", area, 20)[0])
        if area != want:
            raise Deviation("%s: record area at 0x%08x reads %s, expected %s"
                            % (what, 0x08000000 + RECORD_OFFSET, area[:64].hex(),
                               want[:64].hex()))

    def log_size(self):
        return os.path.getsize(self.log_path)

    def log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")

    def upload(self, img, name):
        """A plain, well-behaved upload of img; returns the transfer's port."""
        c = self.client(name)
        port = c.start()
        c.run(port, split_blocks(img))
        c.expect_silence(SILENCE_S, "after the final ACK")
        return port


def ok(msg):
    print("  ok: " + msg)


# --- scenarios ------------------------------------------------------------------------------

def sc_dup_data(ctx):
    """Every DATA sent twice back to back: one ACK per block, no more."""
    img = ctx.image(20 * BLOCK_SIZE)          # a multiple of 512: ends with an empty DATA 21
    blocks = split_blocks(img)
    before = ctx.flash()
    c = ctx.client("dup-data")
    port = c.start()
    for n, payload in enumerate(blocks, 1):
        pkt = data(n, payload)
        c.send(pkt, port)
        c.send(pkt, port)
        c.expect(ack(n), port, "the one ACK of doubled DATA %d" % n)
    c.expect_silence(SILENCE_S, "after the final ACK (a held-back duplicate must stay held)")
    acks = sum(1 for _, _, p in c.received if p[:2] == struct.pack(">H", OP_ACK))
    if acks != len(blocks) + 1:
        raise Deviation("dup-data: %d ACKs received, expected %d" % (acks, len(blocks) + 1))
    ok("%d blocks sent twice each, exactly %d ACKs (ACK 0..%d), each once, in order"
       % (len(blocks), acks, len(blocks)))
    ctx.check_flash_image(img, before, "dup-data")


def sc_apprentice(ctx):
    """A client with the Sorcerer's Apprentice bug plus one duplicate: no doubling."""
    img = ctx.image(30 * BLOCK_SIZE + 77)
    blocks = split_blocks(img)
    n_blocks = len(blocks)
    before = ctx.flash()
    c = ctx.client("apprentice")
    port = c.start()
    c.send(data(1, blocks[0]), port)
    c.send(data(1, blocks[0]), port)          # the injected duplicate
    sent = 2
    acks = [0]
    deadline = time.monotonic() + 10.0
    # The buggy client: every ACK n it receives, duplicates included, makes it send DATA n+1.
    while time.monotonic() < deadline and len(acks) < 4 * n_blocks:
        got = c.recv(REPLY_S if acks[-1] < n_blocks else SILENCE_S)
        if got is None:
            break
        _, src, pkt = got
        if src != port or len(pkt) != 4 or pkt[:2] != struct.pack(">H", OP_ACK):
            raise Deviation("apprentice: expected only ACKs from port %d, got %s from port %d"
                            % (port, describe(pkt), src))
        n = struct.unpack(">H", pkt[2:])[0]
        acks.append(n)
        if n < n_blocks:
            c.send(data(n + 1, blocks[n]), port)
            sent += 1
    if acks[-1] != n_blocks:
        raise Deviation("apprentice: transfer did not complete: last ACK %d of %d; ACKs seen %s"
                        % (acks[-1], n_blocks, acks))
    if acks != list(range(n_blocks + 1)):
        raise Deviation("apprentice: expected ACK 0..%d once each (%d ACKs), got %d ACKs: %s"
                        % (n_blocks, n_blocks + 1, len(acks), acks))
    ok("%d DATA sent for %d blocks, %d ACKs received (ACK 0..%d once each): no doubling"
       % (sent, n_blocks, len(acks), n_blocks))
    ctx.check_flash_image(img, before, "apprentice")


def sc_lost_ack(ctx):
    """The ACK of block k is lost; the client re-sends DATA k 1.5 s later."""
    img = ctx.image(12 * BLOCK_SIZE + 300)
    blocks = split_blocks(img)
    k = 5
    before = ctx.flash()
    c = ctx.client("lost-ack")
    port = c.start()
    c.run(port, blocks, 1, k - 1)
    c.send(data(k, blocks[k - 1]), port)
    t_ack, _ = c.expect(ack(k), port, "ACK %d (the one the client loses)" % k)
    # While the client waits, the server's own timeout re-sends ACK k once, after ~1 s.
    t_re, _ = c.expect(ack(k), port, "ACK %d re-sent on the server's timeout" % k,
                       timeout=REXMIT_MAX_S)
    if t_re - t_ack < REXMIT_MIN_S:
        raise Deviation("lost-ack: ACK %d re-sent after %.2f s, before the %.1f s timeout"
                        % (k, t_re - t_ack, TIMEOUT_S))
    wait = 1.5 - (time.monotonic() - t_ack)
    if wait > 0:
        c.expect_silence(wait, "until the client re-sends DATA %d" % k)
    t_resend = time.monotonic()
    c.send(data(k, blocks[k - 1]), port)
    t_reack, _ = c.expect(ack(k), port, "re-ACK of the re-sent DATA %d" % k)
    ok("ACK %d at t=0, server re-sent it at %.2f s, re-ACKed the client's re-sent DATA %d "
       "(sent at %.2f s) after %.0f ms"
       % (k, t_re - t_ack, k, t_resend - t_ack, (t_reack - t_resend) * 1000))
    c.run(port, blocks, k + 1)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ok("transfer completed, %d blocks" % len(blocks))
    ctx.check_flash_image(img, before, "lost-ack")


def sc_server_rexmit(ctx):
    """The client goes quiet after ACK k: the server re-sends ACK k after its timeout."""
    img = ctx.image(8 * BLOCK_SIZE + 1)
    blocks = split_blocks(img)
    k = 3
    before = ctx.flash()
    c = ctx.client("server-rexmit")
    port = c.start()
    c.run(port, blocks, 1, k - 1)
    c.send(data(k, blocks[k - 1]), port)
    t_ack, _ = c.expect(ack(k), port, "ACK %d" % k)
    t_re, _ = c.expect(ack(k), port, "ACK %d re-sent on the server's own timeout" % k,
                       timeout=REXMIT_MAX_S + 0.5)
    dt = t_re - t_ack
    if not REXMIT_MIN_S <= dt <= REXMIT_MAX_S:
        raise Deviation("server-rexmit: ACK %d re-sent after %.2f s, expected about %.1f s "
                        "(accepted %.1f-%.1f s)" % (k, dt, TIMEOUT_S, REXMIT_MIN_S,
                                                    REXMIT_MAX_S))
    ok("ACK %d re-sent by the server after %.2f s (TFTP_TIMEOUT_MS %d)"
       % (k, dt, int(TIMEOUT_S * 1000)))
    c.run(port, blocks, k + 1)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ok("transfer completed, %d blocks" % len(blocks))
    ctx.check_flash_image(img, before, "server-rexmit")


def sc_dup_wrq(ctx):
    """The WRQ sent twice from the same port: the same transfer answers, sector 4 erased once."""
    img = ctx.image(10 * BLOCK_SIZE + 100)
    blocks = split_blocks(img)
    before = ctx.flash()
    log_start = ctx.log_size()
    c = ctx.client("dup-wrq")
    port = c.start("first WRQ")
    c.send(wrq(), ctx.tftp_port)
    c.expect(ack(0), port, "ACK 0 for the repeated WRQ, from the same transfer")
    ok("repeated WRQ answered with ACK 0 from the same port %d" % port)
    c.run(port, blocks)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ok("transfer completed, %d blocks" % len(blocks))
    ctx.check_flash_image(img, before, "dup-wrq")
    log = ctx.log_since(log_start)
    erased = len(re.findall(r"erased sector 4 \(", log))
    started = log.count("transfer started from")
    if erased != 1:
        raise Deviation("dup-wrq: iapd logged \"erased sector 4\" %d times for this transfer, "
                        "expected once (is iapd running with --verbose?); log:\n%s"
                        % (erased, log))
    if started != 1:
        raise Deviation("dup-wrq: iapd logged %d transfer starts, expected 1; log:\n%s"
                        % (started, log))
    ok("iapd log: one transfer started, \"erased sector 4\" exactly once")


def sc_foreign_tid(ctx):
    """A second socket sends DATA to the transfer's port: ERROR 5 to it, the transfer goes on."""
    img = ctx.image(10 * BLOCK_SIZE + 10)
    blocks = split_blocks(img)
    k = 4
    before = ctx.flash()
    c = ctx.client("foreign-tid main")
    intruder = ctx.client("foreign-tid intruder")
    port = c.start()
    c.run(port, blocks, 1, k)
    # The next block, with other bytes: had the server taken it, the flash would show it.
    intruder.send(data(k + 1, bytes(b ^ 0x5A for b in blocks[k])), port)
    intruder.expect_error(EBADID, "DATA from a foreign TID", port=port)
    c.expect_silence(SILENCE_S / 2, "while the intruder is refused")
    ok("intruder (port %d) got ERROR 5 from the transfer's port %d; the client got nothing"
       % (intruder.port, port))
    c.run(port, blocks, k + 1)
    c.expect_silence(SILENCE_S, "after the final ACK")
    intruder.expect_silence(0.0001, "after its ERROR")
    ok("transfer completed, %d blocks" % len(blocks))
    ctx.check_flash_image(img, before, "foreign-tid")


def sc_busy(ctx):
    """A WRQ from another client during a transfer: ERROR 0 "busy", the transfer goes on."""
    img = ctx.image(10 * BLOCK_SIZE + 200)
    blocks = split_blocks(img)
    k = 3
    before = ctx.flash()
    c = ctx.client("busy main")
    other = ctx.client("busy other")
    port = c.start()
    c.run(port, blocks, 1, k)
    other.send(wrq(), ctx.tftp_port)
    src, text = other.expect_error(EUNDEF, "WRQ during a transfer", contains="busy",
                                   not_ports=(ctx.tftp_port, port))
    c.expect_silence(SILENCE_S / 2, "while the other client is refused")
    ok("second client got ERROR 0 %r from port %d" % (text, src))
    c.run(port, blocks, k + 1)
    c.expect_silence(SILENCE_S, "after the final ACK")
    other.expect_silence(0.0001, "after its ERROR")
    ok("transfer completed, %d blocks" % len(blocks))
    ctx.check_flash_image(img, before, "busy")


def sc_abandon(ctx):
    """The client vanishes after block k: MAX_RETRIES re-sent ACKs, an ERROR, no application."""
    if ctx.flash()[USER_FLASH_OFFSET:USER_FLASH_OFFSET + 4] == b"\xff" * 4:
        # Make "nothing bootable afterwards" mean something: start from a bootable flash.
        prior = ctx.image(4 * BLOCK_SIZE + 40)
        ctx.upload(prior, "abandon prior upload")
        ok("a valid image uploaded first, so that the abandon has one to destroy")
    img = ctx.image(10 * BLOCK_SIZE + 33)
    blocks = split_blocks(img)
    k = 4
    before = ctx.flash()
    c = ctx.client("abandon")
    port = c.start()
    c.run(port, blocks, 1, k)
    t_prev = c.received[-1][0]
    intervals = []
    for i in range(1, MAX_RETRIES + 1):
        t, _ = c.expect(ack(k), port, "re-sent ACK %d, %d of %d" % (k, i, MAX_RETRIES),
                        timeout=REXMIT_MAX_S + 0.5)
        intervals.append(t - t_prev)
        t_prev = t
    got = c.recv(REXMIT_MAX_S + 0.5)
    if got is None:
        raise Deviation("abandon: no ERROR within %.1f s after the %d re-sent ACKs"
                        % (REXMIT_MAX_S + 0.5, MAX_RETRIES))
    t_err, src, pkt = got
    intervals.append(t_err - t_prev)
    if pkt == ack(k):
        raise Deviation("abandon: ACK %d re-sent more than TFTP_MAX_RETRIES=%d times"
                        % (k, MAX_RETRIES))
    text = check_error(pkt, EUNDEF, "timed out", "abandon: packet after the re-sent ACKs")
    if src != port:
        raise Deviation("abandon: the timeout ERROR came from port %d, expected the "
                        "transfer's port %d" % (src, port))
    bad = [i for i, dt in enumerate(intervals) if not REXMIT_MIN_S <= dt <= REXMIT_MAX_S]
    if bad:
        raise Deviation("abandon: intervals between ACK %d re-sends / ERROR %s s, each expected "
                        "about %.1f s (accepted %.1f-%.1f)"
                        % (k, ["%.2f" % dt for dt in intervals], TIMEOUT_S, REXMIT_MIN_S,
                           REXMIT_MAX_S))
    ok("ACK %d re-sent exactly %d times, then ERROR 0 %r; intervals %s s"
       % (k, MAX_RETRIES, text, " ".join("%.2f" % dt for dt in intervals)))
    c.expect_silence(1.5, "after the ERROR (the transfer is over)")
    head = ctx.flash()[USER_FLASH_OFFSET:USER_FLASH_OFFSET + 4]
    if head != b"\xff" * 4:
        raise Deviation("abandon: flash at 0x08010000 reads %s after the abandoned upload, "
                        "expected ff ff ff ff (nothing bootable)" % hexdump(head))
    ctx.check_flash_outside(before, ctx.flash(), "abandon")
    ok("flash at 0x08010000 reads ff ff ff ff: nothing bootable")
    # The server is free again: a fresh transfer works.
    img2 = ctx.image(6 * BLOCK_SIZE + 6)
    ctx.upload(img2, "abandon fresh upload")
    ok("fresh transfer after the abandoned one completed")
    ctx.check_flash_image(img2, before, "abandon")


def sc_dally(ctx):
    """The final ACK is "lost": the final DATA re-sent 1.5 s later is ACKed again."""
    img = ctx.image(7 * BLOCK_SIZE + 123)
    blocks = split_blocks(img)
    n = len(blocks)
    before = ctx.flash()
    c = ctx.client("dally")
    port = c.start()
    c.run(port, blocks, 1, n - 1)
    c.send(data(n, blocks[n - 1]), port)
    t_final, _ = c.expect(ack(n), port, "final ACK %d (the one the client loses)" % n)
    # Dallying, the server waits for the client; it does not re-send the final ACK by itself.
    c.expect_silence(1.5 - (time.monotonic() - t_final), "while the server dallies")
    t_resend = time.monotonic()
    c.send(data(n, blocks[n - 1]), port)
    c.expect(ack(n), port, "re-ACK of the final DATA re-sent while dallying")
    ok("final DATA %d re-sent %.2f s after its ACK: ACKed again from the same port %d"
       % (n, t_resend - t_final, port))
    c.expect_silence(SILENCE_S, "after the re-ACK")
    ctx.check_flash_image(img, before, "dally")


def sc_malformed(ctx):
    """Broken requests and an oversize DATA."""
    before = ctx.flash()
    c = ctx.client("malformed")
    c.send(struct.pack(">H", OP_WRQ) + FILENAME + b"\0octet", ctx.tftp_port)
    src, text = c.expect_error(EBADOP, "WRQ without the mode's NUL terminator",
                               not_ports=(ctx.tftp_port,))
    ok("WRQ without NUL terminator: ERROR 4 %r from port %d" % (text, src))
    c.send(struct.pack(">H", 9) + b"junk\0", ctx.tftp_port)
    src, text = c.expect_error(EBADOP, "opcode 9 to port 69", not_ports=(ctx.tftp_port,))
    ok("opcode 9: ERROR 4 %r from port %d" % (text, src))
    c.send(struct.pack(">H", OP_RRQ) + FILENAME + b"\0octet\0", ctx.tftp_port)
    src, text = c.expect_error(EACCESS, "RRQ", not_ports=(ctx.tftp_port,))
    ok("RRQ: ERROR 2 %r from port %d" % (text, src))
    c.expect_silence(SILENCE_S / 2, "after the three refusals")

    img = ctx.image(5 * BLOCK_SIZE + 5)
    blocks = split_blocks(img)
    s = ctx.client("malformed session")
    port = s.start()
    s.send(data(1, img[:596]), port)          # 600-byte packet: 596 > 512 payload bytes
    s.expect_error(EBADOP, "600-byte DATA in a transfer", port=port)
    ok("600-byte DATA 1: ERROR 4 from the transfer's port %d" % port)
    # The transfer is over: its port answers nothing (a live one would ACK, or re-send ACK 0
    # on its timeout within this wait).
    s.send(data(1, blocks[0]), port)
    s.expect_silence(TIMEOUT_S + 0.5, "a valid DATA 1 to the closed transfer's port")
    ok("session closed: valid DATA 1 to port %d got no answer for %.1f s"
       % (port, TIMEOUT_S + 0.5))
    now = ctx.flash()
    if now != before:
        off = next(i for i in range(FLASH_SIZE) if now[i] != before[i])
        raise Deviation("malformed: flash changed at 0x%08x although no block was accepted"
                        % (0x08000000 + off))
    ok("flash unchanged by the refused transfer")
    ctx.upload(img, "malformed fresh upload")
    ok("a fresh transfer afterwards completed (the server is not busy)")
    ctx.check_flash_image(img, before, "malformed")


def opt(name, value):
    return (name.encode(), str(value).encode())


def sc_oack(ctx):
    """Options: the exact OACK (accepted ones, in the client's order, blksize and windowsize
    capped, unknown and repeated ones left out), then a windowed upload in those terms."""
    img = ctx.image(30 * 1428 + 1000)
    before = ctx.flash()
    c = ctx.client("oack")
    port = c.start_with(
        [opt("blksize", 1428), opt("tsize", len(img)), opt("foo", "bar"), opt("Timeout", 2),
         opt("windowsize", 8), opt("BLKSIZE", 100)],
        oack([opt("blksize", 1428), opt("tsize", len(img)), opt("timeout", 2),
              opt("windowsize", 8)]))
    ok("OACK blksize 1428, tsize %d, timeout 2, windowsize 8 from port %d: foo and the second "
       "blksize left out, names in lower case" % (len(img), port))
    c.run_windows(port, split_blocks(img, 1428), 8)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ok("31 blocks of up to 1428 bytes in windows of 8: one ACK per window")
    ctx.check_flash_image(img, before, "oack")

    c2 = ctx.client("oack capped")
    port2 = c2.start_with([opt("blksize", 65464), opt("windowsize", 65535)],
                          oack([opt("blksize", BLKSIZE_MAX), opt("windowsize", WINDOWSIZE_MAX)]))
    c2.send(struct.pack(">HH", OP_ERROR, EUNDEF) + b"enough\0", port2)
    c2.expect_silence(SILENCE_S, "after the client's ERROR")
    ok("blksize 65464 and windowsize 65535 answered 1468 and 64")


def sc_options_left_out(ctx):
    """Unknown options, malformed and out-of-range values: left out of the OACK, ACK 0 when
    nothing is left; the transfer then runs as RFC 1350 says."""
    img = ctx.image(6 * BLOCK_SIZE + 6)
    before = ctx.flash()
    c = ctx.client("unknown options")
    port = c.start_with([opt("multicast", ""), opt("rollover", 0), opt("utimeout", 500),
                         opt("blocksize", 1024)], ack(0))
    ok("only unknown options: ACK 0, nothing echoed")
    c.run(port, split_blocks(img))
    c.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "unknown options")

    c2 = ctx.client("bad values")
    port2 = c2.start_with([opt("blksize", 7), opt("timeout", 0), opt("windowsize", 0),
                           opt("tsize", "12x")], ack(0))
    ok("blksize 7, timeout 0, windowsize 0, tsize 12x: all left out, ACK 0")
    c2.run(port2, split_blocks(img))   # 512-byte blocks in lock-step
    c2.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "bad values")

    c3 = ctx.client("bad and good")
    port3 = c3.start_with([opt("blksize", "abc"), opt("windowsize", 4), opt("timeout", 256),
                           opt("blksize", 1024), opt("tsize", "-1")],
                          oack([opt("windowsize", 4)]))
    ok("blksize abc (and its repeat), timeout 256, tsize -1 left out; windowsize 4 in the OACK")
    c3.run_windows(port3, split_blocks(img), 4)   # 512-byte blocks: blksize was not accepted
    c3.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "bad and good")


def sc_window_gap(ctx):
    """A block lost inside a window: one ACK of the last block received in order, the rest of
    the window unanswered, the client resumes after it; the flash gets each block once."""
    img = ctx.image(40 * BLOCK_SIZE + 40)
    blocks = split_blocks(img)
    before = ctx.flash()
    c = ctx.client("window-gap")
    port = c.start_with([opt("windowsize", 8)], oack([opt("windowsize", 8)]))
    c.window(port, blocks, range(1, 9), [8], "window 1-8")
    c.window(port, blocks, [9, 10, 12, 13, 14, 15, 16], [10], "window 9-16 without 11")
    ok("block 11 lost: exactly one ACK 10, blocks 12-16 unanswered")
    c.window(port, blocks, range(11, 19), [18], "window 11-18")
    c.window(port, blocks, [20, 21, 22, 23, 24, 25, 26], [18], "window 19-26 without 19")
    ok("the first block of a window lost: ACK 18 again, once")
    c.run_windows(port, blocks, 8, first=19)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "window-gap")


def sc_window_shuffle(ctx):
    """Copies and reordering inside windows of 4: the exact ACKs RFC 7440 gives, every block
    written once and in order."""
    img = ctx.image(16 * BLOCK_SIZE + 16)
    blocks = split_blocks(img)
    before = ctx.flash()
    c = ctx.client("window-shuffle")
    port = c.start_with([opt("windowsize", 4)], oack([opt("windowsize", 4)]))
    c.window(port, blocks, [1, 1, 2, 3, 3, 4], [4], "window with copies")
    ok("1 1 2 3 3 4: ACK 4 only")
    c.window(port, blocks, [5, 7, 6, 8], [5, 6], "window 5 7 6 8")
    ok("5 7 6 8: ACK 5 at the gap before 7, 6 in order, ACK 6 at the gap before 8")
    c.window(port, blocks, [7, 8, 9, 10], [10], "window after ACK 6")
    c.window(port, blocks, [10, 9, 11, 12, 13, 14], [10, 14], "copies, then a window")
    ok("a late copy of 10 (past the hold-off) re-ACKed once, 9 ignored, 11-14 ACKed once")
    c.run_windows(port, blocks, 4, first=15)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "window-shuffle")


def sc_window_lost_ack(ctx):
    """The ACK of a window is lost: the server re-sends it after its timeout, and the client's
    copy of the whole window gets that ACK once more, not one per block."""
    img = ctx.image(12 * BLOCK_SIZE + 12)
    blocks = split_blocks(img)
    before = ctx.flash()
    c = ctx.client("window-lost-ack")
    port = c.start_with([opt("windowsize", 4)], oack([opt("windowsize", 4)]))
    c.window(port, blocks, range(1, 5), [4], "window 1-4 (its ACK is lost)")
    t_ack = c.received[-1][0]
    t_re, _ = c.expect(ack(4), port, "ACK 4 re-sent on the server's timeout",
                       timeout=REXMIT_MAX_S)
    if t_re - t_ack < REXMIT_MIN_S:
        raise Deviation("window-lost-ack: ACK 4 re-sent after %.2f s" % (t_re - t_ack))
    # The client, on its own timeout, sends the whole window again: 1-3 are stale, 4 is a copy
    # of the block acknowledged, later than the hold-off: answered once.
    time.sleep(2 * HOLDOFF_S)
    for k in range(1, 5):
        c.send(data(k, blocks[k - 1]), port)
    c.expect(ack(4), port, "ACK 4 for the whole window sent again")
    ok("ACK 4 re-sent by the server after %.2f s; the repeated window 1-4 answered once"
       % (t_re - t_ack))
    c.run_windows(port, blocks, 4, first=5)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "window-lost-ack")


def sc_error8(ctx):
    """The client answers the OACK with ERROR 8: the transfer ends, the flash is unchanged to
    the byte, the old application stays bootable and the board takes the next upload."""
    if ctx.flash()[USER_FLASH_OFFSET:USER_FLASH_OFFSET + 4] == b"\xff" * 4:
        ctx.upload(ctx.image(3 * BLOCK_SIZE + 3), "error8 prior upload")
        ok("a valid image uploaded first, so that unchanged means it is still there")
    before = ctx.flash()
    log_start = ctx.log_size()
    c = ctx.client("error8")
    port = c.start_with([opt("blksize", 1468), opt("windowsize", 16), opt("tsize", 50000)],
                        oack([opt("blksize", 1468), opt("windowsize", 16),
                              opt("tsize", 50000)]))
    c.send(struct.pack(">HH", OP_ERROR, EOPTNEG) + b"option negotiation refused\0", port)
    c.expect_silence(TIMEOUT_S + 0.5, "after ERROR 8 (no OACK re-sent: the transfer is over)")
    if ctx.flash() != before:
        raise Deviation("error8: the flash file changed")
    log = ctx.log_since(log_start)
    for line in ("ended the transfer: ERROR 8 \"option negotiation refused\"",
                 "flash: flash unchanged"):
        if line not in log:
            raise Deviation("error8: iapd did not log %r; log:\n%s" % (line, log))
    ok("ERROR 8 after the OACK: no answer, flash unchanged byte for byte, logged")
    img = ctx.image(4 * BLOCK_SIZE + 4)
    ctx.upload(img, "error8 fresh upload")
    ctx.check_flash_image(img, before, "error8")


def sc_tsize_too_large(ctx):
    """tsize larger than the user flash, with other options: ERROR 3 before anything is
    erased, from a port of its own, and no OACK."""
    before = ctx.flash()
    log_start = ctx.log_size()
    c = ctx.client("tsize-too-large")
    c.send(wrq(options=[opt("blksize", 1428), opt("tsize", USER_FLASH_SIZE + 1),
                        opt("windowsize", 16)]), ctx.tftp_port)
    src, text = c.expect_error(ENOSPACE, "WRQ with tsize 982913", not_ports=(ctx.tftp_port,),
                               contains="image too large: 982913 bytes, the user flash "
                                        "0x08010000-0x080fff7f holds 982912 bytes")
    c.expect_silence(TIMEOUT_S + 0.5, "after the ERROR 3 (no transfer started)")
    if ctx.flash() != before:
        raise Deviation("tsize-too-large: the flash file changed")
    log = ctx.log_since(log_start)
    if "transfer started" in log or "erased sector" in log:
        raise Deviation("tsize-too-large: a transfer started or a sector was erased:\n%s" % log)
    ok("ERROR 3 %r from port %d, nothing erased, no transfer started" % (text, src))


def sc_oack_rexmit(ctx):
    """The OACK is lost: the server re-sends it after the negotiated timeout (2 s), like ACK 0;
    DATA 1 then answers it."""
    img = ctx.image(3 * 1024 + 100)
    before = ctx.flash()
    c = ctx.client("oack-rexmit")
    want = oack([opt("timeout", 2), opt("blksize", 1024)])
    port = c.start_with([opt("timeout", 2), opt("blksize", 1024)], want)
    t0 = c.received[-1][0]
    t1, _ = c.expect(want, port, "the OACK re-sent", timeout=4.0)
    if not 1.6 <= t1 - t0 <= 3.5:
        raise Deviation("oack-rexmit: OACK re-sent after %.2f s, expected about 2 s (the "
                        "negotiated timeout)" % (t1 - t0))
    ok("OACK re-sent after %.2f s (timeout 2)" % (t1 - t0))
    c.run(port, split_blocks(img, 1024))
    c.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "oack-rexmit")


def sc_apprentice_options(ctx):
    """The Sorcerer's Apprentice client with blksize 1024: it sends DATA n+1 for every ACK n
    (the OACK counting as ACK 0), plus one duplicate: still one ACK per block."""
    img = ctx.image(20 * 1024 + 33)
    blocks = split_blocks(img, 1024)
    n_blocks = len(blocks)
    before = ctx.flash()
    c = ctx.client("apprentice-options")
    port = c.start_with([opt("blksize", 1024)], oack([opt("blksize", 1024)]))
    c.send(data(1, blocks[0]), port)
    c.send(data(1, blocks[0]), port)
    acks = []
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and len(acks) < 4 * n_blocks:
        got = c.recv(REPLY_S if not acks or acks[-1] < n_blocks else SILENCE_S)
        if got is None:
            break
        _, src, pkt = got
        if src != port or len(pkt) != 4 or pkt[:2] != struct.pack(">H", OP_ACK):
            raise Deviation("apprentice-options: expected only ACKs, got %s" % describe(pkt))
        n = struct.unpack(">H", pkt[2:])[0]
        acks.append(n)
        if n < n_blocks:
            c.send(data(n + 1, blocks[n]), port)
    if acks != list(range(1, n_blocks + 1)):
        raise Deviation("apprentice-options: expected ACK 1..%d once each, got %s"
                        % (n_blocks, acks))
    ok("%d blocks of 1024 bytes, ACK 1..%d once each: no doubling" % (n_blocks, n_blocks))
    ctx.check_flash_image(img, before, "apprentice-options")


def sc_foreign_tid_options(ctx):
    """A foreign TID in the middle of a windowed transfer: ERROR 5 to it, the window goes on
    and is answered once."""
    img = ctx.image(12 * 1000 + 1)
    blocks = split_blocks(img, 1000)
    before = ctx.flash()
    c = ctx.client("foreign-tid-options main")
    intruder = ctx.client("foreign-tid-options intruder")
    port = c.start_with([opt("blksize", 1000), opt("windowsize", 4)],
                        oack([opt("blksize", 1000), opt("windowsize", 4)]))
    c.window(port, blocks, range(1, 5), [4], "window 1-4")
    c.send(data(5, blocks[4]), port)
    c.send(data(6, blocks[5]), port)
    intruder.send(data(7, bytes(b ^ 0x5A for b in blocks[6])), port)
    intruder.expect_error(EBADID, "DATA from a foreign TID", port=port)
    c.window(port, blocks, [7, 8], [8], "the rest of window 5-8")
    ok("intruder got ERROR 5 mid-window; the window 5-8 was answered once, with ACK 8")
    c.run_windows(port, blocks, 4, first=9)
    c.expect_silence(SILENCE_S, "after the final ACK")
    intruder.expect_silence(0.0001, "after its ERROR")
    ctx.check_flash_image(img, before, "foreign-tid-options")


def sc_dally_options(ctx):
    """With timeout 5 the server dallies 10 s: a final DATA re-sent 7 s after the final ACK,
    later than the 6 s dally without options, is still answered."""
    img = ctx.image(5 * 1428 + 28)
    blocks = split_blocks(img, 1428)
    n = len(blocks)
    before = ctx.flash()
    c = ctx.client("dally-options")
    port = c.start_with([opt("blksize", 1428), opt("timeout", 5), opt("windowsize", 2)],
                        oack([opt("blksize", 1428), opt("timeout", 5), opt("windowsize", 2)]))
    c.run_windows(port, blocks, 2)
    t_final = c.received[-1][0]
    c.expect_silence(7.0 - (time.monotonic() - t_final), "while the server dallies")
    c.send(data(n, blocks[n - 1]), port)
    c.expect(ack(n), port, "re-ACK of the final DATA 7 s after the final ACK")
    ok("final DATA %d re-sent 7 s after its ACK: answered (dally 2 x timeout 5)" % n)
    c.expect_silence(SILENCE_S, "after the re-ACK")
    ctx.check_flash_image(img, before, "dally-options")


def sc_fragments(ctx):
    """A client that ignores the OACK's blksize and sends a 2000-byte block: its datagram
    arrives as IP fragments, which the board drops, logging why; nothing is written, and the
    transfer goes on when the client sends what was agreed."""
    img = ctx.image(5 * 1468 + 68)
    blocks = split_blocks(img, 1468)
    before = ctx.flash()
    log_start = ctx.log_size()
    c = ctx.client("fragments")
    # Let the kernel fragment a datagram larger than the path MTU (not set DF).
    c.sock.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_MTU_DISCOVER", 10),
                      getattr(socket, "IP_PMTUDISC_DONT", 0))
    # timeout 3: the OACK is not re-sent while the scenario watches the log.
    port = c.start_with([opt("blksize", 2048), opt("timeout", 3)],
                        oack([opt("blksize", BLKSIZE_MAX), opt("timeout", 3)]))
    c.send(data(1, img[:2048]), port)
    c.expect_silence(SILENCE_S, "after a 2052-byte DATA 1 in two fragments")
    deadline = time.monotonic() + 2.0
    want = ("net: warning: dropped 1 IP fragment (the last from 192.168.0.1): the board does "
            "not reassemble fragmented datagrams; a TFTP client must use blocks of at most "
            "1468 bytes (blksize)")
    while want not in ctx.log_since(log_start) and time.monotonic() < deadline:
        time.sleep(0.05)
    if want not in ctx.log_since(log_start):
        raise Deviation("fragments: iapd did not log %r; log:\n%s"
                        % (want, ctx.log_since(log_start)))
    if ctx.flash() != before:
        raise Deviation("fragments: the flash changed after a fragmented DATA")
    ok("2052-byte DATA 1 dropped as fragments, logged; nothing written")
    c.run(port, blocks)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ctx.check_flash_image(img, before, "fragments")


def sc_netascii_options(ctx):
    """netascii with a negotiated blksize and windows of 4: the block size is chosen so that
    the first block ends in the CR of a CR LF or CR NUL pair, whose second byte opens block 2;
    the image is decoded exactly. tsize, which counts the bytes on the wire, is only echoed."""
    img = ctx.image(9000)
    wire = img.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")
    cr = next((i for i in range(200, 1400) if wire[i] == 0x0D), None)
    if cr is None:
        raise Deviation("netascii-options: no CR in bytes 200-1399 of the encoded image; "
                        "pick another size")
    size = cr + 1
    splits = sum(1 for i in range(size - 1, len(wire), size) if wire[i] == 0x0D)
    blocks = split_blocks(wire, size)
    before = ctx.flash()
    c = ctx.client("netascii-options")
    want = oack([opt("blksize", size), opt("windowsize", 4), opt("tsize", len(wire))])
    c.send(wrq(mode=b"netascii", options=[opt("blksize", size), opt("windowsize", 4),
                                          opt("tsize", len(wire))]), ctx.tftp_port)
    port = c.expect(want, None, "the OACK to a netascii WRQ")[1]
    c.session = port
    c.run_windows(port, blocks, 4)
    c.expect_silence(SILENCE_S, "after the final ACK")
    ok("%d image bytes as %d netascii bytes in %d blocks of %d, %d of them ending in the CR "
       "of a pair" % (len(img), len(wire), len(blocks), size, splits))
    ctx.check_flash_image(img, before, "netascii-options")


def sc_wrap(ctx):
    """Block numbers past 65535 in windows: 8-byte blocks, windows of 64, a block lost across
    the wrap (65535 missing, 0 arriving): ACK 65534, resume, every byte in place."""
    size = 540000                       # 67500 blocks of 8
    img = ctx.image(size)
    blocks = split_blocks(img, 8)
    before = ctx.flash()
    c = ctx.client("wrap")
    port = c.start_with([opt("blksize", 8), opt("windowsize", 64)],
                        oack([opt("blksize", 8), opt("windowsize", 64)]))
    t0 = time.monotonic()
    n = 1
    dropped = False
    while n <= len(blocks):
        last = min(n + 63, len(blocks))
        expect = last
        for k in range(n, last + 1):
            if k == 65535 and not dropped:
                dropped = True
                expect = 65534
                continue
            c.send(data(k, blocks[k - 1]), port)
        c.expect(ack(expect), port, "ACK %d (block %d)" % (expect & 0xFFFF, expect))
        n = expect + 1
    c.expect_silence(SILENCE_S, "after the final ACK")
    if not dropped:
        raise Deviation("wrap: the scenario never reached block 65535")
    ok("%d blocks of 8 bytes in windows of 64 across the wrap, 65535 lost once and re-sent "
       "after ACK 65534, in %.1f s" % (len(blocks), time.monotonic() - t0))
    ctx.check_flash_big(img, before, "wrap")


SCENARIOS = [
    ("dup-data", sc_dup_data),
    ("apprentice", sc_apprentice),
    ("lost-ack", sc_lost_ack),
    ("server-rexmit", sc_server_rexmit),
    ("dup-wrq", sc_dup_wrq),
    ("foreign-tid", sc_foreign_tid),
    ("busy", sc_busy),
    ("abandon", sc_abandon),
    ("dally", sc_dally),
    ("malformed", sc_malformed),
    ("oack", sc_oack),
    ("options-left-out", sc_options_left_out),
    ("window-gap", sc_window_gap),
    ("window-shuffle", sc_window_shuffle),
    ("window-lost-ack", sc_window_lost_ack),
    ("error8", sc_error8),
    ("tsize-too-large", sc_tsize_too_large),
    ("oack-rexmit", sc_oack_rexmit),
    ("apprentice-options", sc_apprentice_options),
    ("foreign-tid-options", sc_foreign_tid_options),
    ("dally-options", sc_dally_options),
    ("fragments", sc_fragments),
    ("netascii-options", sc_netascii_options),
    ("wrap", sc_wrap),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", default="192.168.0.10")
    p.add_argument("--port", type=int, default=69)
    p.add_argument("--flash", required=True, help="iapd's flash file")
    p.add_argument("--log", required=True, help="iapd's log (stderr, run with --verbose)")
    p.add_argument("--mkimage", required=True, help="fixtures/mkimage")
    p.add_argument("--workdir", help="where to write images (default: a temporary directory)")
    p.add_argument("--scenario", default="all",
                   help="all, or a comma-separated list of: "
                        + ", ".join(name for name, _ in SCENARIOS))
    args = p.parse_args()

    by_name = dict(SCENARIOS)
    if args.scenario == "all":
        chosen = [name for name, _ in SCENARIOS]
    else:
        chosen = args.scenario.split(",")
        unknown = [n for n in chosen if n not in by_name]
        if unknown:
            p.error("unknown scenario(s) %s; known: %s"
                    % (", ".join(unknown), ", ".join(by_name)))

    tmp = None
    if not args.workdir:
        tmp = tempfile.TemporaryDirectory(prefix="tftp_chaos.")
        args.workdir = tmp.name
    ctx = Context(args)
    failed = []
    t_all = time.monotonic()
    for name in chosen:
        print("scenario %s: %s" % (name, by_name[name].__doc__))
        sys.stdout.flush()
        t0 = time.monotonic()
        try:
            by_name[name](ctx)
        except Deviation as e:
            print("FAIL %s: %s" % (name, e))
            failed.append(name)
        except OSError as e:
            print("FAIL %s: socket or file error: %s" % (name, e))
            failed.append(name)
        else:
            print("PASS %s (%.1f s)" % (name, time.monotonic() - t0))
        # After a failure, end the half-done transfer so that one failure does not show up
        # as "busy" in all the scenarios after it.
        ctx.close_clients(give_up=name in failed)
        sys.stdout.flush()
    print("%d of %d scenarios passed in %.1f s%s"
          % (len(chosen) - len(failed), len(chosen), time.monotonic() - t_all,
             "; failed: " + ", ".join(failed) if failed else ""))
    if tmp:
        tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
