/*
 * The HTTP server's pages: a read-only file system generated at build time from web/ by
 * tools/mkfsdata.py (http_fsdata.c in the build tree; never edited nor committed). A page
 * may hold one text marker, <!--#text-->, where the server puts a message (escaped for HTML);
 * the generator records where it is, so the server sends the bytes before it, the text, and
 * the bytes after it, with no copy of the page.
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
  int32_t marker;             /* offset of HTTP_FS_MARKER, -1 when the file has none */
};

extern const struct http_fs_file http_fs_files[];
extern const size_t http_fs_files_count;

/* The file at path, or NULL. */
const struct http_fs_file *http_fs_find(const char *path);

#endif
