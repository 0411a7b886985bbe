/*
 * The HTTP server's pages: a read-only file system generated at build time from web/ by
 * tools/mkfsdata.py (http_fsdata.c in the build tree; never edited nor committed). A page
 * may hold one text marker, <!--#text-->, where the server puts a message (escaped for HTML);
 * the generator records where it is, so the server sends the bytes before it, the text, and
 * the bytes after it, with no copy of the page.
 *
 * The board's pages are stored as gzip members (gzip = 1; tools/mkfsdata.py --gzip says how a
 * page with a marker is cut in two deflate pieces, and what the server adds between and
 * after them), of stored deflate blocks (--stored): the firmware packs its whole program,
 * which packs their text smaller than deflate does. iapd's own control pages (emul/) are
 * stored as they are.
 */
#ifndef IAPD_HTTP_FS_H
#define IAPD_HTTP_FS_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_FS_MARKER "<!--#text-->"

struct http_fs_file {
  const char *path;           /* "/login.html" */
  const char *content_type;   /* "text/html; charset=utf-8" */
  const uint8_t *data;
  uint32_t len;
  int32_t marker;             /* offset of HTTP_FS_MARKER, -1 when the file has none; gzip:
                               * where the second deflate piece starts */
  uint8_t gzip;               /* 1: data is gzip (Content-Encoding: gzip) */
  uint32_t plain_len;         /* gzip with a marker: bytes of the page, less the marker */
  uint32_t after_len;         /* gzip with a marker: bytes of the page after the marker */
  uint32_t crc_before;        /* gzip with a marker: CRC-32 of the page before the marker */
  uint32_t crc_after;         /* gzip with a marker: CRC register the rest leaves from 0 */
};

extern const struct http_fs_file http_fs_files[];
extern const size_t http_fs_files_count;

/* The file at path, or NULL. */
const struct http_fs_file *http_fs_find(const char *path);

#endif
