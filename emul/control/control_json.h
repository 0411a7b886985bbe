/*
 * What the control API needs from jansson beyond jansson itself:
 *  - strings from bytes that may not be UTF-8: jansson refuses those (json_string() returns
 *    NULL), but a log line can hold a file name a TFTP client sent; here every invalid byte
 *    becomes U+FFFD, so the reply is valid JSON and still says what was there;
 *  - compact text with a size cap: a value whose text is longer than the cap gives no text
 *    at all, never a truncated one.
 */
#ifndef IAPD_CONTROL_JSON_H
#define IAPD_CONTROL_JSON_H

#include <jansson.h>
#include <stddef.h>

/* A JSON string of len bytes of s, invalid UTF-8 replaced by U+FFFD, NUL bytes kept (they
 * come out as \u0000). A new reference; NULL only when out of memory. */
json_t *control_json_stringn(const char *s, size_t len);

/* The same for a C string; NULL s is the empty string. */
json_t *control_json_string(const char *s);

/* v as compact JSON text (no blanks, members in insertion order), NUL-terminated, malloc'd:
 * free() it. NULL when the text would be longer than max_len bytes or memory ran out. The
 * length goes to *len when len is not NULL. */
char *control_json_dump(const json_t *v, size_t max_len, size_t *len);

#endif
