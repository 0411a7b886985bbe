/*
 * The board's pages are gzip (src/http_fs.h): what the HTTP tests compare them with. The
 * pages as written in web/ come from a second table that tools/mkfsdata.py generates without
 * --gzip for the tests (http_fs_plain_files), and an answer's body is decoded with zlib, as
 * a browser does.
 */
#ifndef IAPD_TESTS_GZIP_PAGE_H
#define IAPD_TESTS_GZIP_PAGE_H

#include <stddef.h>

/* The page at path as web/ has it, with text (as given: already escaped) at its marker;
 * malloc'd, NUL-terminated. */
char *test_page_with_text(const char *path, const char *text);

/* A gzip body decoded; asserts that it is one whole gzip member and nothing more. The result
 * is one of a few static buffers, NUL-terminated: valid until some more calls. */
const char *test_gunzip(const void *body, size_t len, size_t *out_len);

#endif
