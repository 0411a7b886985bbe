/*
 * libFuzzer target: the multipart/form-data parser. Input: byte 0 picks the boundary length
 * (1 to 70) and the feed size, the next bytes are the boundary (mapped to printable
 * characters), the rest is the body. Checks: no crash, no sanitizer report, and the parser's
 * promise that a body split differently gives the same parts: the body fed in pieces of the
 * chosen size and fed byte by byte must end alike, with the same bytes in the same parts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
  uint32_t hash;      /* FNV-1a over every event and byte, in order */
  size_t bytes;
};

static void mix(struct trace *t, const void *p, size_t n)
{
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    t->hash = (t->hash ^ b[i]) * 16777619u;
}

static bool on_begin(void *ctx, const char *name, bool is_file)
{
  struct trace *t = ctx;
  uint8_t tag = is_file ? 'F' : 'B';
  mix(t, &tag, 1);
  mix(t, name, strlen(name) + 1);
  return true;
}

static bool on_data(void *ctx, const uint8_t *d, size_t n)
{
  struct trace *t = ctx;
  if (n == 0)
    abort();  /* never an empty data call */
  t->bytes += n;
  mix(t, d, n);
  return true;
}

static bool on_end(void *ctx)
{
  struct trace *t = ctx;
  mix(t, "E", 1);
  return true;
}

static const struct multipart_callbacks cb = { on_begin, on_data, on_end };

static enum multipart_status run(const char *boundary, size_t blen, const uint8_t *body,
                                 size_t n, size_t piece, struct trace *t)
{
  struct multipart_parser p;
  t->hash = 2166136261u;
  t->bytes = 0;
  if (!multipart_init(&p, boundary, blen, &cb, t))
    return MULTIPART_ERR_SYNTAX;
  for (size_t at = 0; at < n; at += piece)
    multipart_feed(&p, body + at, n - at < piece ? n - at : piece);
  return multipart_finish(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char chars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "'()+_,-./:=? ";
  char boundary[MULTIPART_BOUNDARY_MAX];
  struct trace a, b;

  if (size < 1)
    return 0;
  size_t blen = 1 + data[0] % MULTIPART_BOUNDARY_MAX;
  size_t piece = 1 + data[0] / 8u;
  if (size < 1 + blen)
    return 0;
  for (size_t i = 0; i < blen; i++)
    boundary[i] = chars[data[1 + i] % (sizeof(chars) - 2)];  /* never ends in the blank */
  const uint8_t *body = data + 1 + blen;
  size_t n = size - 1 - blen;

  enum multipart_status sa = run(boundary, blen, body, n, piece, &a);
  enum multipart_status sb = run(boundary, blen, body, n, 1, &b);
  if (sa != sb || a.hash != b.hash || a.bytes != b.bytes)
    abort();  /* the result depends on how the body was split */
  return 0;
}
