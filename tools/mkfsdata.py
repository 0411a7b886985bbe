#!/usr/bin/env python3
"""Generates a ROM file system (struct http_fs_file, src/http_fs.h) from files in the tree.

    mkfsdata.py -o http_fsdata.c web/login.html web/style.css ...
    mkfsdata.py -o www_assets.c --table control_www_files emul/www/board.html ...

Each file becomes a const byte array and an entry of the table (http_fs_files[] unless
--table names another, with its count in TABLE_count), served at "/" + its name. The
board's HTTP server and iapd's control server (its board page) use the same format. The one text marker a page may hold, <!--#text-->, is found here, so the server knows
where to put its message without searching. Output is deterministic (files in the order
given, no dates), and written only when it changed, so make does not rebuild for nothing.

With --gzip (the board's pages) each file is stored gzip-compressed (RFC 1952, deflate at
level 9, no name, mtime 0) and served with Content-Encoding: gzip. A file with a marker is
stored as two deflate pieces: the text before the marker, ended by a sync flush on a byte
boundary, and the text after it, a stream of its own whose last block is final. The server
sends the gzip header and the first piece, the message as one stored block (RFC 1951 3.2.4:
a byte 0, LEN, NLEN, the bytes), the second piece, and the trailer. The trailer's CRC-32 is
the one thing computed on the board: from crc_before (the CRC of the text before the
marker) through the message, then through after_len zero bytes, XORed with crc_after (the
CRC register that the text after the marker leaves from 0): CRC-32 is linear, so this is
the CRC of the whole page (src/http_response.c).

With --stored as well (the board's pages), the deflate blocks are stored ones (level 0,
RFC 1951 3.2.4): the pages' text in the clear, in the same gzip members, served the same
way. The board's program is packed whole at build time (tools/fw_pack.c, LZMA), which packs
that text far smaller than deflate's own coding does, and deflate's output does not pack
again: measured on the board's http build, 1709 bytes of flash less (firmware/README.md).

With --compact (the board's pages, in flash) the comments of HTML and CSS files and the
indentation of their lines are left out: they are for the reader of web/, and cost the
board's flash. A page with <pre>, <textarea> or <script>, where that would change what the
browser shows or runs, is refused.
"""
import argparse
import os
import re
import sys
import zlib

MARKER = b"<!--#text-->"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
}


def compact(path, ext, data):
    """data without its comments and the indentation of its lines (--compact)."""
    if ext not in (".html", ".css"):
        return data
    if re.search(rb"<(pre|textarea|script)\b", data, re.I):
        sys.exit("mkfsdata.py: %s: --compact would change a <pre>, <textarea> or <script>"
                 % path)
    def css(text):
        return re.sub(rb"/\*.*?\*/\n?", b"", text, flags=re.S)
    if ext == ".html":
        data = re.sub(rb"<!--(?!#text-->).*?-->\n?", b"", data, flags=re.S)
        data = re.sub(rb"(<style>)(.*?)(</style>)",
                      lambda m: m.group(1) + css(m.group(2)) + m.group(3), data, flags=re.S)
    else:
        data = css(data)
    return re.sub(rb"\n[ \t]+", b"\n", data)


def c_identifier(name):
    return "file_" + "".join(c if c.isalnum() else "_" for c in name)


# gzip member header: magic, deflate, no flags, mtime 0, no extra flags, OS "unknown".
GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])


def deflate(data, final, level):
    """Raw deflate of data at level (0: stored blocks): the last block final, or ended by a
    sync flush (byte aligned)."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return z.compress(data) + z.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def gzip_plain(data, level):
    return (GZIP_HEADER + deflate(data, True, level) + zlib.crc32(data).to_bytes(4, "little")
            + (len(data) & 0xFFFFFFFF).to_bytes(4, "little"))


def gzip_pieces(before, after, level):
    """The two pieces of a page with a marker and what the server needs for the trailer."""
    head = GZIP_HEADER + deflate(before, False, level)
    tail = deflate(after, True, level)
    crc_before = zlib.crc32(before)
    crc_after = zlib.crc32(after, 0xFFFFFFFF) ^ 0xFFFFFFFF   # the register, from 0
    return head, tail, crc_before, crc_after


def self_check(before, text, after, head, tail, crc_before, crc_after):
    """What the server will send, decompressed: the page with text at the marker."""
    stored = bytes([0]) + len(text).to_bytes(2, "little") + \
        (len(text) ^ 0xFFFF).to_bytes(2, "little") + text
    crc = zlib.crc32(bytes(len(after)), zlib.crc32(text, crc_before)) ^ crc_after
    size = len(before) + len(text) + len(after)
    body = head + stored + tail + crc.to_bytes(4, "little") + size.to_bytes(4, "little")
    return zlib.decompress(body, 16 + 15) == before + text + after


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--table", default="http_fs_files",
                    help="name of the generated table (default: http_fs_files)")
    ap.add_argument("--gzip", action="store_true",
                    help="store the files gzip-compressed (served with Content-Encoding: gzip)")
    ap.add_argument("--stored", action="store_true",
                    help="with --gzip: deflate's stored blocks, the text in the clear (for a "
                         "program packed whole)")
    ap.add_argument("--compact", action="store_true",
                    help="leave out HTML and CSS comments and indentation")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    if args.stored and not args.gzip:
        sys.exit("mkfsdata.py: --stored is a form of --gzip")
    level = 0 if args.stored else 9
    if not args.table.isidentifier():
        sys.exit("mkfsdata.py: --table %s is not a C identifier" % args.table)
    out = ["/* Generated by tools/mkfsdata.py: do not edit, do not commit. */",
           '#include "http_fs.h"', ""]
    entries = []
    seen = set()
    for path in args.files:
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1].lower()
        if ext not in TYPES:
            sys.exit("mkfsdata.py: %s: no content type known for '%s'" % (path, ext))
        if name in seen:
            sys.exit("mkfsdata.py: %s: two files named %s" % (path, name))
        seen.add(name)
        data = open(path, "rb").read()
        if args.compact:
            data = compact(path, ext, data)
        count = data.count(MARKER)
        if count > 1:
            sys.exit("mkfsdata.py: %s: more than one %s marker" % (path, MARKER.decode()))
        marker = data.find(MARKER) if count else -1
        ident = c_identifier(name)
        plain_len = len(data)
        crc_before = crc_after = after_len = 0
        if args.gzip and marker < 0:
            data = gzip_plain(data, level)
        elif args.gzip:
            before, after = data[:marker], data[marker + len(MARKER):]
            head, tail, crc_before, crc_after = gzip_pieces(before, after, level)
            for text in (b"", b"x", b"Wrong user ID or password. " * 9):
                if not self_check(before, text, after, head, tail, crc_before, crc_after):
                    sys.exit("mkfsdata.py: %s: the gzip pieces do not decompress to the page"
                             % path)
            plain_len = len(before) + len(after)
            after_len = len(after)
            data = head + tail
            marker = len(head)
        out.append("/* %s, %d bytes%s */" % (name, plain_len,
                                             ", gzip: %d" % len(data) if args.gzip else ""))
        out.append("static const uint8_t %s[] = {" % ident)
        for i in range(0, len(data), 16):
            out.append("  " + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",")
        if not data:
            out.append("  0")
        out.append("};")
        out.append("")
        entries.append('  { "/%s", "%s", %s, %du, %d, %d, %du, %du, 0x%08xu, 0x%08xu },'
                       % (name, TYPES[ext], ident, len(data), marker, 1 if args.gzip else 0,
                          plain_len if marker >= 0 else 0, after_len, crc_before, crc_after))
    out.append("extern const struct http_fs_file %s[];" % args.table)
    out.append("extern const size_t %s_count;" % args.table)
    out.append("const struct http_fs_file %s[] = {" % args.table)
    out.extend(entries)
    out.append("};")
    out.append("const size_t %s_count = %d;" % (args.table, len(entries)))
    text = "\n".join(out) + "\n"

    try:
        if open(args.output).read() == text:
            return
    except OSError:
        pass
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
