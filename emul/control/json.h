/*
 * A small JSON writer for the control API: objects, arrays, strings, numbers, booleans and
 * null into a growing buffer with a hard size cap. What it promises:
 *  - the output is valid JSON text in UTF-8 whatever bytes a string holds: '"', '\\' and
 *    control characters are escaped, invalid UTF-8 (a file name a TFTP client sent, say)
 *    becomes U+FFFD;
 *  - commas and nesting are tracked here, so callers cannot forget one;
 *  - out of memory, past the cap, or a call out of order marks the writer failed (json_ok()
 *    false) and it writes nothing more; nothing is silently truncated.
 */
#ifndef IAPD_JSON_H
#define IAPD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json {
  char *buf;          /* NUL-terminated text so far (malloc'd) */
  size_t len;
  size_t cap;         /* bytes allocated */
  size_t max;         /* hard limit on len */
  bool failed;
  unsigned depth;
  bool first[JSON_MAX_DEPTH + 1];   /* no member/element written yet at this level */
  bool object[JSON_MAX_DEPTH + 1];  /* the container at this level is an object */
  bool after_key;                   /* a key was written: the next value is its value */
};

/* Starts an empty document of at most max_len bytes. */
void json_init(struct json *j, size_t max_len);
void json_free(struct json *j);

/* True while everything fitted and the calls were in order. */
bool json_ok(const struct json *j);

/* The text, once the top-level value is complete; NULL after a failure. */
const char *json_text(const struct json *j);
size_t json_len(const struct json *j);

/* Hands the buffer to the caller (free() it); the writer is left empty. NULL on failure. */
char *json_take(struct json *j, size_t *len);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);

/* Inside an object: the name of the next member. */
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s);
void json_string_len(struct json *j, const char *s, size_t len);
/* A string built with printf; too long for an internal 512-byte buffer fails the writer. */
void json_stringf(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Appends s to out as the body of a JSON string (no quotes). Returns false past the cap. */
bool json_escape(struct json *j, const char *s, size_t len);

#endif
