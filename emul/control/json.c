/* A small JSON writer (see json.h). */
#include "json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_FIRST_ALLOC 256u

void json_init(struct json *j, size_t max_len)
{
  memset(j, 0, sizeof(*j));
  j->max = max_len;
  j->first[0] = true;
}

void json_free(struct json *j)
{
  free(j->buf);
  j->buf = NULL;
  j->len = j->cap = 0;
}

bool json_ok(const struct json *j)
{
  return !j->failed;
}

static void fail(struct json *j)
{
  j->failed = true;
}

static bool put(struct json *j, const char *s, size_t n)
{
  if (j->failed)
    return false;
  if (n > j->max - j->len) {
    fail(j);
    return false;
  }
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : JSON_FIRST_ALLOC;
    while (cap < j->len + n + 1)
      cap *= 2;
    char *grown = realloc(j->buf, cap);
    if (grown == NULL) {
      fail(j);
      return false;
    }
    j->buf = grown;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = '\0';
  return true;
}

static bool putc_json(struct json *j, char c)
{
  return put(j, &c, 1);
}

/* Before any value: the comma between elements, or nothing after a key. A value at the top
 * level is allowed once. */
static bool before_value(struct json *j)
{
  if (j->failed)
    return false;
  if (j->after_key) {
    j->after_key = false;
    return true;
  }
  if (j->depth == 0) {
    if (!j->first[0]) {  /* a second top-level value */
      fail(j);
      return false;
    }
    j->first[0] = false;
    return true;
  }
  /* Inside an object a value needs its key first (json_key() sets after_key). */
  if (j->object[j->depth]) {
    fail(j);
    return false;
  }
  if (j->first[j->depth]) {
    j->first[j->depth] = false;
    return true;
  }
  return putc_json(j, ',');
}

static void open_container(struct json *j, char c, bool object)
{
  if (!before_value(j))
    return;
  if (j->depth >= JSON_MAX_DEPTH) {
    fail(j);
    return;
  }
  if (!putc_json(j, c))
    return;
  j->depth++;
  j->first[j->depth] = true;
  j->object[j->depth] = object;
}

static void close_container(struct json *j, char c, bool object)
{
  if (j->failed)
    return;
  if (j->depth == 0 || j->after_key || j->object[j->depth] != object) {
    fail(j);
    return;
  }
  if (!putc_json(j, c))
    return;
  j->depth--;
}

void json_object_begin(struct json *j)
{
  open_container(j, '{', true);
}

void json_object_end(struct json *j)
{
  close_container(j, '}', true);
}

void json_array_begin(struct json *j)
{
  open_container(j, '[', false);
}

void json_array_end(struct json *j)
{
  close_container(j, ']', false);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  /* allowed range of the second byte */

  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;      /* overlong */
    else if (c == 0xED)
      hi = 0x9F;      /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;      /* overlong */
    else if (c == 0xF4)
      hi = 0x8F;      /* above U+10FFFF */
  } else
    return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

bool json_escape(struct json *j, const char *str, size_t n)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;

  while (i < n) {
    size_t run = i;
    /* Copy runs of bytes that need no escaping in one go. */
    while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
      run++;
    if (run > i && !put(j, str + i, run - i))
      return false;
    i = run;
    if (i == n)
      break;

    unsigned char c = s[i];
    char esc[8];
    const char *out = esc;
    size_t out_len = 2;
    switch (c) {
    case '"':  out = "\\\""; break;
    case '\\': out = "\\\\"; break;
    case '\b': out = "\\b"; break;
    case '\f': out = "\\f"; break;
    case '\n': out = "\\n"; break;
    case '\r': out = "\\r"; break;
    case '\t': out = "\\t"; break;
    default:
      if (c < 0x20) {
        snprintf(esc, sizeof(esc), "\\u%04x", c);
        out_len = 6;
      } else {
        size_t seq = utf8_sequence(s + i, n - i);
        if (seq == 0) {
          out = "\xEF\xBF\xBD";  /* U+FFFD REPLACEMENT CHARACTER for one bad byte */
          out_len = 3;
        } else {
          out = str + i;
          out_len = seq;
          i += seq - 1;
        }
      }
      break;
    }
    if (!put(j, out, out_len))
      return false;
    i++;
  }
  return true;
}

void json_key(struct json *j, const char *key)
{
  if (j->failed)
    return;
  if (j->depth == 0 || j->after_key || !j->object[j->depth]) {
    fail(j);
    return;
  }
  if (!j->first[j->depth] && !putc_json(j, ','))
    return;
  j->first[j->depth] = false;
  if (putc_json(j, '"') && json_escape(j, key, strlen(key)) && put(j, "\":", 2))
    j->after_key = true;
}

void json_string_len(struct json *j, const char *s, size_t len)
{
  if (before_value(j) && putc_json(j, '"') && json_escape(j, s, len))
    putc_json(j, '"');
}

void json_string(struct json *j, const char *s)
{
  json_string_len(j, s, strlen(s));
}

void json_stringf(struct json *j, const char *fmt, ...)
{
  char text[512];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(text)) {
    fail(j);
    return;
  }
  json_string_len(j, text, (size_t)n);
}

void json_uint(struct json *j, uint64_t v)
{
  char text[24];
  int n = snprintf(text, sizeof(text), "%" PRIu64, v);
  if (before_value(j))
    put(j, text, (size_t)n);
}

void json_int(struct json *j, int64_t v)
{
  char text[24];
  int n = snprintf(text, sizeof(text), "%" PRId64, v);
  if (before_value(j))
    put(j, text, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
  if (before_value(j))
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
  if (before_value(j))
    put(j, "null", 4);
}

static bool complete(const struct json *j)
{
  return !j->failed && j->depth == 0 && !j->first[0] && !j->after_key;
}

const char *json_text(const struct json *j)
{
  return complete(j) ? j->buf : NULL;
}

size_t json_len(const struct json *j)
{
  return complete(j) ? j->len : 0;
}

char *json_take(struct json *j, size_t *len)
{
  char *text;

  if (!complete(j))
    return NULL;
  text = j->buf;
  if (len != NULL)
    *len = j->len;
  j->buf = NULL;
  j->len = j->cap = 0;
  return text;
}
