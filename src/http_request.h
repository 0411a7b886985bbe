/*
 * HTTP/1.1 request parsing (RFC 7230), independent of any network stack: the request head
 * fed in pieces of any size, then the body decoded from Content-Length or chunked transfer
 * coding. Only the fields the IAP server uses are kept, in fixed buffers; everything else is
 * read past. What it promises:
 *  - header names in any case; blanks around values ignored; CRLF or bare LF line ends;
 *    blank lines before the request line skipped (RFC 7230 3.5);
 *  - a head longer than HTTP_HEADER_BLOCK_MAX gets 431, and so does a header this server
 *    needs (Cookie, Authorization, Content-Type) longer than its buffer; a target longer
 *    than HTTP_TARGET_MAX gets 414;
 *  - Transfer-Encoding together with Content-Length is refused (400: the request smuggling
 *    of RFC 7230 3.3.3), as are differing Content-Lengths, blanks before a colon and folded
 *    lines; a transfer coding other than chunked gets 501, an Expect other than
 *    100-continue 417, an HTTP version other than 1.x 505, a second Host header 400
 *    (RFC 9112 3.2);
 *  - the Host value is kept, and the origin the request says it comes from: Origin, or the
 *    scheme and authority of Referer when there is no Origin (OWASP's CSRF guidance), so
 *    that a state-changing request can be checked against the server's own address;
 *  - the chunked decoder hands out slices of its input (no copy) and checks every CRLF, chunk
 *    sizes up to 32 bits, extensions and trailers with bounded lengths.
 */
#ifndef IAPD_HTTP_REQUEST_H
#define IAPD_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_opts.h"

#define HTTP_CONTENT_TYPE_MAX 128
#define HTTP_AUTHORIZATION_MAX 200
#define HTTP_COOKIE_VALUE_MAX 64
#define HTTP_SESSION_COOKIE "iapd_session"

enum http_method { HTTP_METHOD_OTHER, HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_POST,
                   HTTP_METHOD_PUT };

/* Where a request's origin was read from. */
enum http_origin_source { HTTP_ORIGIN_NONE, HTTP_ORIGIN_HEADER, HTTP_ORIGIN_REFERER };

struct http_request {
  enum http_method method;
  char method_text[16];                 /* as sent, cut to fit */
  char path[HTTP_TARGET_MAX];           /* target without its query */
  unsigned version_minor;               /* HTTP/1.x */
  bool has_content_length;
  uint32_t content_length;
  bool chunked;                         /* Transfer-Encoding: chunked */
  bool expect_continue;                 /* Expect: 100-continue */
  bool keep_alive;                      /* the connection may carry another request */
  bool has_host;
  char host[HTTP_HOST_MAX];             /* the Host value, "" when absent */
  enum http_origin_source origin_from;
  bool origin_cut;                      /* too long to keep: it cannot be this server */
  char origin[HTTP_HOST_MAX + 8];       /* "scheme://host[:port]", from origin_from */
  char content_type[HTTP_CONTENT_TYPE_MAX];
  char authorization[HTTP_AUTHORIZATION_MAX];
  char session[HTTP_COOKIE_VALUE_MAX + 1];  /* the iapd_session cookie, "" when absent */
};

enum http_request_state { RQ_LINE, RQ_HEADERS, RQ_SKIP_LINE, RQ_DONE, RQ_FAILED };

struct http_request_parser {
  enum http_request_state state;
  int status;                           /* the error's HTTP status when RQ_FAILED */
  const char *error;                    /* why, for the client (static text) */
  char line[HTTP_LINE_MAX];
  size_t line_len;
  uint32_t head_bytes;
  bool has_te;
  bool connection_close;
  bool connection_keep_alive;
  struct http_request req;
};

void http_request_init(struct http_request_parser *p);

/* Feeds bytes of the head. Returns how many it took: all of them, or fewer when the head
 * ended (state RQ_DONE: the rest is body or the next request) or failed (RQ_FAILED). */
size_t http_request_feed(struct http_request_parser *p, const uint8_t *data, size_t len);

/* True when the request may change state on this server: it names no origin at all (a
 * script: browsers send Origin with every cross-site POST), or its origin is
 * "http://" and the Host value, ports compared with 80 as the default. */
bool http_request_same_origin(const struct http_request *r);

/* --- the body ---------------------------------------------------------------------------- */

enum http_body_state { BODY_DATA, BODY_CHUNK_SIZE, BODY_CHUNK_EXT, BODY_CHUNK_SIZE_LF,
                       BODY_CHUNK_DATA_CR, BODY_CHUNK_DATA_LF, BODY_TRAILER,
                       BODY_DONE, BODY_FAILED };

struct http_body {
  enum http_body_state state;
  bool chunked;
  uint32_t remaining;        /* bytes left: of the body (length), of the chunk (chunked) */
  uint32_t decoded;          /* body bytes handed out so far */
  unsigned digits;           /* significant hex digits of the chunk size */
  bool size_seen;            /* at least one hex digit */
  uint32_t side_bytes;       /* bytes of chunk extensions and trailers, bounded */
  bool line_empty;           /* in the trailer: nothing on the current line yet */
  const char *error;
};

/* Sets the decoder up for the request's body (none when it has neither length nor chunks). */
void http_body_init(struct http_body *b, const struct http_request *req);

/* Decodes from in: returns the input bytes consumed and sets *out, *out_len to the body bytes
 * among them (a slice of in, maybe empty). Call again with the rest until all is consumed or
 * the body is done or failed. */
size_t http_body_decode(struct http_body *b, const uint8_t *in, size_t len,
                        const uint8_t **out, size_t *out_len);

static inline bool http_body_done(const struct http_body *b)
{
  return b->state == BODY_DONE;
}

static inline bool http_body_failed(const struct http_body *b)
{
  return b->state == BODY_FAILED;
}

#endif
