/*
 * JSON string escaping (RFC 8259 section 7) into a buffer the caller owns: no allocation, no
 * locale, no printf. What it promises:
 *  - '"' and '\' get a backslash before them; the control characters U+0000 to U+001F are
 *    written as \u00xx (lower-case hex); every other byte is copied as it is, so UTF-8 text
 *    passes through;
 *  - out is always NUL-terminated (when out_size > 0) and never ends in half an escape: a text
 *    that does not fit stops after the last character whose escape fits whole;
 *  - like snprintf, the return value is the length of the whole escaped text, so a value of
 *    out_size or more says that out holds only its beginning.
 * The output goes between the quotes of a JSON string; the quotes are the caller's.
 */
#ifndef IAPD_JSON_ESCAPE_H
#define IAPD_JSON_ESCAPE_H

#include <stddef.h>

size_t json_escape_string(const char *text, char *out, size_t out_size);

#endif
