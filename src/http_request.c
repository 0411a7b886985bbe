/* HTTP/1.1 request parsing (see http_request.h). */
#include "http_request.h"

#include <string.h>

#include "http_text.h"

#define CHUNK_SIZE_DIGITS_MAX 8      /* 32 bits */
#define CHUNK_SIDE_MAX 1024          /* chunk extensions and trailers, in all */

static void fail(struct http_request_parser *p, int status, const char *why)
{
  p->state = RQ_FAILED;
  p->status = status;
  p->error = why;
}

void http_request_init(struct http_request_parser *p)
{
  memset(p, 0, sizeof(*p));
  p->state = RQ_LINE;
}

static bool is_tchar(char c)
{
  /* RFC 7230 3.2.6 token characters */
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void trim_end(char *s)
{
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
}

static void request_line(struct http_request_parser *p, char *line)
{
  struct http_request *r = &p->req;
  char *sp1 = strchr(line, ' ');
  char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

  if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1 == line
      || sp2 == sp1 + 1) {
    fail(p, 400, "malformed request line (expected METHOD /path HTTP/1.1)");
    return;
  }
  *sp1 = '\0';
  *sp2 = '\0';
  for (char *c = line; *c; c++)
    if (!is_tchar(*c)) {
      fail(p, 400, "malformed request method");
      return;
    }
  size_t mlen = strlen(line);
  if (mlen >= sizeof(r->method_text))
    mlen = sizeof(r->method_text) - 1;
  memcpy(r->method_text, line, mlen);
  r->method_text[mlen] = '\0';
  if (strcmp(line, "GET") == 0)
    r->method = HTTP_METHOD_GET;
  else if (strcmp(line, "HEAD") == 0)
    r->method = HTTP_METHOD_HEAD;
  else if (strcmp(line, "POST") == 0)
    r->method = HTTP_METHOD_POST;
  else if (strcmp(line, "PUT") == 0)
    r->method = HTTP_METHOD_PUT;
  else
    r->method = HTTP_METHOD_OTHER;

  const char *version = sp2 + 1;
  if (strncmp(version, "HTTP/", 5) != 0 || version[5] < '0' || version[5] > '9'
      || version[6] != '.' || version[7] < '0' || version[7] > '9' || version[8] != '\0') {
    fail(p, 400, "malformed HTTP version in the request line");
    return;
  }
  if (version[5] != '1') {
    fail(p, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return;
  }
  r->version_minor = (unsigned)(version[7] - '0');

  const char *target = sp1 + 1;
  size_t tlen = strcspn(target, "?#");
  if (target[0] != '/') {
    /* absolute-form (RFC 7230 5.3.2): keep the path after the authority */
    if (http_prefix_ci(target, "http://")) {
      const char *slash = strchr(target + 7, '/');
      target = slash ? slash : "/";
      tlen = strcspn(target, "?#");
    } else {
      fail(p, 400, "malformed request target (expected a path starting with /)");
      return;
    }
  }
  if (tlen >= sizeof(r->path)) {
    fail(p, 414, "request target too long");
    return;
  }
  memcpy(r->path, target, tlen);
  r->path[tlen] = '\0';
  p->state = RQ_HEADERS;
}

/* A header's value stored in a fixed field: 431 when it does not fit. */
static bool store(struct http_request_parser *p, char *dst, size_t size, const char *value)
{
  size_t n = strlen(value);
  if (n >= size) {
    fail(p, 431, "a request header is too large");
    return false;
  }
  memcpy(dst, value, n + 1);
  return true;
}

static bool parse_u32(const char *s, uint32_t *out, bool *overflow)
{
  uint64_t v = 0;
  *overflow = false;
  if (*s == '\0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10u + (unsigned)(*s - '0');
    if (v > 0xFFFFFFFFu) {
      *overflow = true;  /* keep going to check the syntax */
      v = 0xFFFFFFFFu;
    }
  }
  *out = (uint32_t)v;
  return true;
}

static void content_length(struct http_request_parser *p, const char *value)
{
  struct http_request *r = &p->req;
  uint32_t v;
  bool overflow;
  if (!parse_u32(value, &v, &overflow)) {
    fail(p, 400, "malformed Content-Length");
    return;
  }
  if (overflow) {
    fail(p, 413, "Content-Length larger than 4 GiB");
    return;
  }
  if (r->has_content_length && r->content_length != v) {
    fail(p, 400, "two different Content-Length headers");
    return;
  }
  r->has_content_length = true;
  r->content_length = v;
}

/* The iapd_session pair of a Cookie header: "a=b; iapd_session=...; c=d" (RFC 6265 5.4). */
static void cookie(struct http_request_parser *p, const char *value)
{
  const char *c = value;
  size_t name_len = strlen(HTTP_SESSION_COOKIE);

  while (*c) {
    while (*c == ' ' || *c == ';')
      c++;
    const char *end = strchr(c, ';');
    size_t len = end ? (size_t)(end - c) : strlen(c);
    if (len > name_len && c[name_len] == '=' && memcmp(c, HTTP_SESSION_COOKIE, name_len) == 0) {
      size_t vlen = len - name_len - 1;
      while (vlen > 0 && c[name_len + vlen] == ' ')
        vlen--;
      if (vlen <= HTTP_COOKIE_VALUE_MAX) {
        memcpy(p->req.session, c + name_len + 1, vlen);
        p->req.session[vlen] = '\0';
      }
    }
    c += len;
  }
}

static void connection(struct http_request_parser *p, const char *value)
{
  const char *c = value;
  while (*c) {
    while (*c == ' ' || *c == '\t' || *c == ',')
      c++;
    size_t len = strcspn(c, ", \t");
    if (len == 5 && http_prefix_ci(c, "close"))
      p->connection_close = true;
    else if (len == 10 && http_prefix_ci(c, "keep-alive"))
      p->connection_keep_alive = true;
    c += len;
  }
}

/* The origin a request names, from Origin, or from Referer when there is no Origin. */
static void origin(struct http_request_parser *p, const char *value, size_t len,
                   enum http_origin_source from)
{
  struct http_request *r = &p->req;
  r->origin_from = from;
  r->origin_cut = len >= sizeof(r->origin);
  if (r->origin_cut)
    len = 0;
  memcpy(r->origin, value, len);
  r->origin[len] = '\0';
}

/* The length of an authority ("host[:port]") without a default ":80". */
static size_t authority_len(const char *a)
{
  size_t n = strlen(a);
  if (n > 3 && strcmp(a + n - 3, ":80") == 0)
    n -= 3;
  return n;
}

bool http_request_same_origin(const struct http_request *r)
{
  if (r->origin_from == HTTP_ORIGIN_NONE)
    return true;
  if (r->origin_cut || !r->has_host || !http_prefix_ci(r->origin, "http://"))
    return false;  /* "null", https (this server has no TLS), or too long to be this one */
  const char *a = r->origin + 7;
  size_t n = authority_len(a);
  if (n == 0 || n != authority_len(r->host))
    return false;
  for (size_t i = 0; i < n; i++) {
    char x = a[i], y = r->host[i];
    if (x >= 'A' && x <= 'Z')
      x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = (char)(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

/* The headers this server reads, in the order of enum needed_header. It reads the first
 * NEEDED_WHOLE whole: a line of one of them too long to keep is a 431. The others are read
 * past, except the last two, read for their start (the origin of a Referer with a long path):
 * lines too long for them are cut. */
enum needed_header { H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONTENT_TYPE, H_EXPECT, H_COOKIE,
                     H_AUTHORIZATION, H_CONNECTION, H_HOST, H_ORIGIN, H_REFERER, H_OTHER };
static const char *const needed_headers[] = {
  "content-length", "transfer-encoding", "content-type", "expect", "cookie",
  "authorization", "connection", "host",
  "origin", "referer",
};
#define NEEDED_WHOLE 8u
_Static_assert(sizeof(needed_headers) / sizeof(needed_headers[0]) == H_OTHER,
               "needed_headers and enum needed_header differ");

/* Which of needed_headers the line of len bytes is a header of; H_OTHER for none. */
static enum needed_header needed_index(const char *line, size_t len)
{
  for (unsigned i = 0; i < H_OTHER; i++) {
    size_t n = strlen(needed_headers[i]);
    if (len >= n + 1 && line[n] == ':') {
      bool eq = true;
      for (size_t k = 0; k < n && eq; k++) {
        char c = line[k];
        if (c >= 'A' && c <= 'Z')
          c = (char)(c - 'A' + 'a');
        eq = c == needed_headers[i][k];
      }
      if (eq)
        return (enum needed_header)i;
    }
  }
  return H_OTHER;
}

static void header_line(struct http_request_parser *p, char *line, size_t len)
{
  struct http_request *r = &p->req;

  if (line[0] == ' ' || line[0] == '\t') {
    fail(p, 400, "folded header lines are not accepted (RFC 7230 3.2.4)");
    return;
  }
  char *colon = strchr(line, ':');
  if (colon == NULL || colon == line) {
    fail(p, 400, "malformed header line (expected Name: value)");
    return;
  }
  for (char *c = line; c < colon; c++)
    if (!is_tchar(*c)) {
      fail(p, 400, (*c == ' ' || *c == '\t')
                     ? "blank between a header name and its colon (RFC 7230 3.2.4)"
                     : "malformed header name");
      return;
    }
  trim_end(colon + 1);
  const char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;

  switch (needed_index(line, len)) {
  case H_CONTENT_LENGTH:
    content_length(p, v);
    break;
  case H_TRANSFER_ENCODING:
    if (p->has_te) {
      fail(p, 400, "more than one Transfer-Encoding header");
      return;
    }
    p->has_te = true;
    if (!http_text_equal_ci(v, "chunked")) {
      fail(p, 501, "only the chunked transfer coding is supported");
      return;
    }
    r->chunked = true;
    break;
  case H_CONTENT_TYPE:
    store(p, r->content_type, sizeof(r->content_type), v);
    break;
  case H_EXPECT:
    if (!http_text_equal_ci(v, "100-continue")) {
      fail(p, 417, "only Expect: 100-continue is supported");
      return;
    }
    r->expect_continue = true;
    break;
  case H_COOKIE:
    cookie(p, v);
    break;
  case H_AUTHORIZATION:
    store(p, r->authorization, sizeof(r->authorization), v);
    break;
  case H_CONNECTION:
    connection(p, v);
    break;
  case H_HOST:
    /* Two Hosts name two targets: a proxy and this server might pick different ones. */
    if (r->has_host) {
      fail(p, 400, "more than one Host header (RFC 9112 3.2)");
      return;
    }
    r->has_host = true;
    store(p, r->host, sizeof(r->host), v);
    break;
  case H_ORIGIN:
    origin(p, v, strlen(v), HTTP_ORIGIN_HEADER);
    break;
  case H_REFERER:
    if (r->origin_from != HTTP_ORIGIN_HEADER) {
      /* only its origin: "http://host:port" of "http://host:port/path?query" */
      size_t scheme = strcspn(v, ":/?#");
      size_t vlen = strlen(v);
      if (v[scheme] == ':' && v[scheme + 1] == '/' && v[scheme + 2] == '/')
        vlen = scheme + 3 + strcspn(v + scheme + 3, "/?#");
      origin(p, v, vlen, HTTP_ORIGIN_REFERER);
    }
    break;
  case H_OTHER:
    break;
  }
}

static void end_of_head(struct http_request_parser *p)
{
  struct http_request *r = &p->req;

  if (r->chunked && r->has_content_length) {
    fail(p, 400, "both Transfer-Encoding and Content-Length (RFC 7230 3.3.3)");
    return;
  }
  if (r->version_minor >= 1 && !r->has_host) {
    fail(p, 400, "no Host header (required in HTTP/1.1)");
    return;
  }
  if (r->version_minor == 0 && r->chunked) {
    fail(p, 400, "chunked transfer coding in an HTTP/1.0 request");
    return;
  }
  if (r->version_minor >= 1)
    r->keep_alive = !p->connection_close;
  else
    r->keep_alive = p->connection_keep_alive && !p->connection_close;
  p->state = RQ_DONE;
}

static void end_of_line(struct http_request_parser *p)
{
  if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
    p->line_len--;
  p->line[p->line_len] = '\0';
  for (size_t i = 0; i < p->line_len; i++)
    if (p->line[i] == '\0' || p->line[i] == '\r') {
      fail(p, 400, "control character in the request head");
      return;
    }
  if (p->state == RQ_LINE) {
    if (p->line_len > 0)  /* blank lines before the request line are skipped */
      request_line(p, p->line);
  } else if (p->line_len == 0) {
    end_of_head(p);
  } else {
    header_line(p, p->line, p->line_len);
  }
  p->line_len = 0;
}

size_t http_request_feed(struct http_request_parser *p, const uint8_t *data, size_t len)
{
  size_t i = 0;

  while (i < len && p->state != RQ_DONE && p->state != RQ_FAILED) {
    char c = (char)data[i++];
    if (++p->head_bytes > HTTP_HEADER_BLOCK_MAX) {
      fail(p, p->state == RQ_LINE ? 414 : 431,
           p->state == RQ_LINE ? "request line too long" : "request header fields too large");
      break;
    }
    if (p->state == RQ_SKIP_LINE) {
      if (c == '\n') {
        p->state = RQ_HEADERS;
        if (p->line_len > 0)
          end_of_line(p);  /* the start kept of an Origin or Referer */
      }
      continue;
    }
    if (c == '\n') {
      end_of_line(p);
      continue;
    }
    if (p->line_len < sizeof(p->line) - 1) {
      p->line[p->line_len++] = c;
      continue;
    }
    /* The line does not fit. */
    if (p->state == RQ_LINE) {
      fail(p, 414, "request line too long");
    } else {
      enum needed_header needed = needed_index(p->line, p->line_len);
      if (needed < NEEDED_WHOLE) {
        fail(p, 431, "a request header is too large");
        break;
      }
      if (needed == H_OTHER)
        p->line_len = 0;  /* else its start is kept, read at the line's end */
      p->state = RQ_SKIP_LINE;
    }
  }
  return i;
}

/* --- the body ---------------------------------------------------------------------------- */

static void body_fail(struct http_body *b, const char *why)
{
  b->state = BODY_FAILED;
  b->error = why;
}

void http_body_init(struct http_body *b, const struct http_request *req)
{
  memset(b, 0, sizeof(*b));
  if (req->chunked) {
    b->chunked = true;
    b->state = BODY_CHUNK_SIZE;
  } else if (req->has_content_length && req->content_length > 0) {
    b->state = BODY_DATA;
    b->remaining = req->content_length;
  } else {
    b->state = BODY_DONE;
  }
}

static bool side_byte(struct http_body *b)
{
  if (++b->side_bytes > CHUNK_SIDE_MAX) {
    body_fail(b, "chunk extensions or trailers too long");
    return false;
  }
  return true;
}

size_t http_body_decode(struct http_body *b, const uint8_t *in, size_t len,
                        const uint8_t **out, size_t *out_len)
{
  size_t i = 0;

  *out = in;
  *out_len = 0;
  while (i < len) {
    uint8_t c = in[i];
    switch (b->state) {
    case BODY_DATA: {
      size_t n = len - i < b->remaining ? len - i : b->remaining;
      *out = in + i;
      *out_len = n;
      b->remaining -= (uint32_t)n;
      b->decoded += (uint32_t)n;
      i += n;
      if (b->remaining == 0)
        b->state = b->chunked ? BODY_CHUNK_DATA_CR : BODY_DONE;
      return i;  /* one slice per call */
    }
    case BODY_CHUNK_SIZE: {
      int v = -1;
      if (c >= '0' && c <= '9')
        v = c - '0';
      else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
      if (v >= 0) {
        if (b->remaining != 0 || v != 0)
          b->digits++;
        if (b->digits > CHUNK_SIZE_DIGITS_MAX) {
          body_fail(b, "chunk size larger than 4 GiB");
          return i;
        }
        b->remaining = b->remaining << 4 | (uint32_t)v;
        b->size_seen = true;
        i++;
        break;
      }
      if (!b->size_seen) {
        body_fail(b, "malformed chunk size");
        return i;
      }
      if (c == ';' || c == ' ' || c == '\t') {
        b->state = BODY_CHUNK_EXT;
      } else if (c == '\r') {
        b->state = BODY_CHUNK_SIZE_LF;
        i++;
        break;
      } else if (c == '\n') {
        b->state = BODY_CHUNK_SIZE_LF;
        break;  /* taken by the LF state */
      } else {
        body_fail(b, "malformed chunk size");
        return i;
      }
      break;
    }
    case BODY_CHUNK_EXT:
      /* chunk-ext is read past up to the line end (RFC 7230 4.1.1) */
      if (c == '\n' || c == '\r') {
        b->state = BODY_CHUNK_SIZE_LF;
        if (c == '\r')
          i++;
        break;
      }
      if (!side_byte(b))
        return i;
      i++;
      break;
    case BODY_CHUNK_SIZE_LF:
      if (c != '\n') {
        body_fail(b, "malformed chunk size line (CR without LF)");
        return i;
      }
      i++;
      b->digits = 0;
      b->size_seen = false;
      if (b->remaining == 0) {
        b->state = BODY_TRAILER;
        b->line_empty = true;
      } else {
        b->state = BODY_DATA;
      }
      break;
    case BODY_CHUNK_DATA_CR:
      if (c == '\r') {
        b->state = BODY_CHUNK_DATA_LF;
        i++;
      } else if (c == '\n') {
        b->state = BODY_CHUNK_DATA_LF;
      } else {
        body_fail(b, "chunk longer than its size (no CRLF after the chunk data)");
        return i;
      }
      break;
    case BODY_CHUNK_DATA_LF:
      if (c != '\n') {
        body_fail(b, "chunk longer than its size (no CRLF after the chunk data)");
        return i;
      }
      i++;
      b->state = BODY_CHUNK_SIZE;
      b->remaining = 0;
      break;
    case BODY_TRAILER:
      i++;
      if (c == '\n') {
        if (b->line_empty) {
          b->state = BODY_DONE;
          return i;
        }
        b->line_empty = true;
      } else if (c != '\r') {
        b->line_empty = false;
        if (!side_byte(b))
          return i;
      }
      break;
    case BODY_DONE:
    case BODY_FAILED:
      return i;
    }
  }
  return i;
}
