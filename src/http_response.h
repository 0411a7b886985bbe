/*
 * The answers of the HTTP server: a connection's output queue and the writers that fill it
 * (status line and headers, pages from the ROM file system, the error page, the JSON error of
 * the script endpoint, 100 Continue). What it promises:
 *  - every answer has a Content-Length and says Cache-Control: no-store, nosniff and
 *    X-Frame-Options: DENY; Connection: close when the connection closes after it, keep-alive
 *    when an HTTP/1.0 client may send another request;
 *  - HEAD gets the head of the GET answer, Content-Length included, and no body;
 *  - page bytes go out from ROM without a copy; only the head and a short text are copied,
 *    in HTTP_OUT_SEGMENTS pieces at most per answer;
 *  - the board's pages are gzip (Content-Encoding: gzip, whatever the request's
 *    Accept-Encoding: http_fs.h), a page's text inserted as a stored deflate block;
 *  - the queue goes out as fast as the stack takes it; once the connection is closing and
 *    the queue is empty, the connection is closed (with the reset if the answer asked for it).
 */
#ifndef IAPD_HTTP_RESPONSE_H
#define IAPD_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_opts.h"
#include "image_sink.h"

/* A page's head, the bytes before its marker, the text, the bytes after it; and one spare. */
#define HTTP_OUT_SEGMENTS 5

/* Room for the extra header lines a handler adds to an answer (Set-Cookie, Retry-After...). */
#define HTTP_EXTRA_MAX 192

struct http_out_segment {
  const uint8_t *data;
  size_t len;
  bool copy;                          /* false: ROM, valid for ever */
};

/* The answer being sent. */
struct http_out {
  struct http_out_segment seg[HTTP_OUT_SEGMENTS];
  unsigned count;
  unsigned next;                      /* the first segment not yet all taken by the stack */
  char head[HTTP_RESPONSE_HEAD_MAX];
  char text[HTTP_PAGE_TEXT_MAX];      /* a page's text, escaped; a JSON body; for a gzip
                                       * page the deflate block that stores it */
  uint8_t gzip_trailer[8];            /* a gzip page's CRC-32 and length */
};

struct http_conn;

/* "Not Found" for 404; "Error" for a status the server never sends. */
const char *http_reason_phrase(int status);

/* The HTTP status that answers a sink's refusal (413, 422, 409, 507; 500 for the rest). */
int http_status_of(enum iap_status s);

/* --- the queue ------------------------------------------------------------------------------ */

/* True while queued bytes wait for the stack. */
bool http_out_pending(const struct http_out *o);

/* Queues len bytes (nothing when len is 0); copy false when they are in ROM. A new answer
 * starts on an empty queue. */
void http_out_add(struct http_out *o, const void *data, size_t len, bool copy);

/* Forgets what was not sent (the connection is dropped). */
void http_out_drop(struct http_out *o);

/* Gives the stack what it takes of the queue (flushing when it took some), then closes the
 * connection when it is closing and the queue is empty. */
void http_out_pump(struct http_conn *c);

/* Closes the connection when it is closing and nothing is left to send. */
void http_out_close_if_sent(struct http_conn *c);

/* --- answers (each ends with http_out_pump) ------------------------------------------------- */

/* An answer whose body is the first len bytes of c's out.text. */
void http_send_text(struct http_conn *c, int status, const char *content_type, size_t len,
                    const char *extra);

/* The page at path from the ROM file system, with text (escaped for HTML, may be NULL) at its
 * marker. extra: header lines, each ending in CRLF, or NULL. */
void http_send_page(struct http_conn *c, int status, const char *path, const char *text,
                    const char *extra);

/* The error page: "<status> <reason>: <message>". */
void http_send_error_page(struct http_conn *c, int status, const char *message,
                          const char *extra);

/* The JSON error of the script endpoint: {"ok":false,"status":N,"error":"message"}. */
void http_send_json_error(struct http_conn *c, int status, const char *message,
                          const char *extra);

/* The error as the endpoint speaks: the JSON error while the raw upload (HTTP_H_RAW) reads
 * the body, the error page otherwise. */
void http_send_error(struct http_conn *c, int status, const char *message, const char *extra);

/* 100 Continue (RFC 7231 5.1.1), when the client waits for it and the body is still to come;
 * at most once per request. */
void http_send_continue(struct http_conn *c);

#endif
