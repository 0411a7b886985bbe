/*
 * libFuzzer target: the HTTP request head parser (src/http_request.c) on its own, any bytes
 * as a head: duplicate and conflicting headers, Origin and Referer of any length, lines cut
 * anywhere. Input: byte 0 picks where to cut the rest in two; the head is fed whole, then
 * cut there, then a byte at a time. Checks: no crash, no sanitizer report, and that where
 * TCP splits a head changes nothing: the same state, status, reason, bytes taken, kept
 * fields and same-origin answer each way; a failure always has a 4xx/5xx status and a
 * reason; every kept text is NUL-terminated within its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_request_parser parsers[3];

/* Feeds head in pieces of `piece` bytes (0: the cut, then the rest); returns bytes taken. */
static size_t feed(struct http_request_parser *p, const uint8_t *head, size_t len, size_t cut,
                   size_t piece)
{
  size_t at = 0;
  http_request_init(p);
  while (at < len && p->state != RQ_DONE && p->state != RQ_FAILED) {
    size_t n = piece ? piece : (at < cut ? cut - at : len - at);
    if (n > len - at)
      n = len - at;
    at += http_request_feed(p, head + at, n);
  }
  return at;
}

static void terminated(const char *s, size_t size)
{
  if (strnlen(s, size) == size)
    abort();
}

static void same(const struct http_request_parser *a, const struct http_request_parser *b)
{
  const struct http_request *x = &a->req, *y = &b->req;
  if (a->state != b->state || a->status != b->status)
    abort();
  if ((a->error == NULL) != (b->error == NULL) || (a->error && strcmp(a->error, b->error) != 0))
    abort();
  if (a->state != RQ_DONE)
    return;
  if (x->method != y->method || strcmp(x->path, y->path) != 0
      || x->content_length != y->content_length || x->chunked != y->chunked
      || x->keep_alive != y->keep_alive || strcmp(x->host, y->host) != 0
      || x->origin_from != y->origin_from || x->origin_cut != y->origin_cut
      || strcmp(x->origin, y->origin) != 0 || strcmp(x->session, y->session) != 0
      || strcmp(x->content_type, y->content_type) != 0
      || strcmp(x->authorization, y->authorization) != 0
      || http_request_same_origin(x) != http_request_same_origin(y))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t *head = data + 1;
  size_t len = size - 1;
  size_t cut = len ? data[0] % (len + 1) : 0;

  size_t taken[3];
  taken[0] = feed(&parsers[0], head, len, len, 0);
  taken[1] = feed(&parsers[1], head, len, cut, 0);
  taken[2] = feed(&parsers[2], head, len, len, 1);
  for (int i = 0; i < 3; i++) {
    const struct http_request_parser *p = &parsers[i];
    if (p->state == RQ_FAILED && (p->status < 400 || p->status > 599 || p->error == NULL))
      abort();
    terminated(p->req.host, sizeof(p->req.host));
    terminated(p->req.origin, sizeof(p->req.origin));
    terminated(p->req.path, sizeof(p->req.path));
    terminated(p->req.method_text, sizeof(p->req.method_text));
  }
  for (int i = 1; i < 3; i++) {
    same(&parsers[0], &parsers[i]);
    if (parsers[0].state != RQ_LINE && parsers[0].state != RQ_HEADERS
        && parsers[0].state != RQ_SKIP_LINE && taken[i] != taken[0])
      abort();  /* a finished head ends at the same byte however it came */
  }
  return 0;
}
