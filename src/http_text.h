/*
 * Small text helpers of the HTTP server, pure functions over NUL-terminated strings or
 * counted bytes: case-insensitive compares (HTTP field names, RFC 7230 3.2), header
 * parameters (RFC 7231 3.1.1.1), urlencoded form fields, Base64 (RFC 4648, for Basic auth),
 * HTML escaping, and a compare whose time does not depend on where the inputs differ.
 */
#ifndef IAPD_HTTP_TEXT_H
#define IAPD_HTTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ASCII case-insensitive equality / prefix. */
bool http_text_equal_ci(const char *a, const char *b);
bool http_prefix_ci(const char *s, const char *prefix);

/* When line is "Name: value" with Name equal to name in any case (no blank before the
 * colon), returns value with its leading blanks skipped; otherwise NULL. */
const char *http_header_value(const char *line, const char *name);

/* Looks for parameter `name` (any case) in a list like "; a=b; c=\"d e\"" and copies its value,
 * unquoted, into out. *cut is set when the value did not fit (out then holds its start).
 * True when the parameter is present. */
bool http_find_param(const char *params, const char *name, char *out, size_t out_size,
                     bool *cut);

/* Looks for field `name` in an application/x-www-form-urlencoded body of len bytes and
 * decodes its value ('+' is a blank, %XX a byte) into out, NUL-terminated. Returns false
 * when the field is absent, does not fit, or holds a bad escape or a NUL. */
bool http_form_field(const char *body, size_t len, const char *name, char *out,
                     size_t out_size);

/* Decodes standard Base64 (with or without padding) of in_len characters into out; returns
 * the number of bytes, or -1 when the text is not Base64 or does not fit. */
int http_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size);

/* Copies text into out with &, <, >, " and ' escaped for HTML; cut (never mid-entity) to fit
 * out_size with its NUL. Returns the length written. */
size_t http_html_escape(const char *text, char *out, size_t out_size);

/* Compares a (a_len bytes) with b (b_len bytes) in time that depends only on max_len, never on
 * their contents nor on where they differ. Bytes past max_len count as different. */
bool http_equal_const_time(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                           size_t max_len);

#endif
