/*
 * The HTTP IAP server's connection state machine, one struct http_conn per TCP connection, no
 * sockets and no clock: the lwIP glue (http_server.c) feeds received bytes and the time in,
 * and gives each connection callbacks to send bytes and to close. Tests drive it the same way
 * and see every byte it sends. What it promises:
 *  - requests on a connection are answered in order (keep-alive, pipelining): the next head is
 *    read only once the last answer is out;
 *  - the route for the head (http_routes.h) answers at once or takes the body, which reaches
 *    its handler as it is decoded (Content-Length or chunked), in pieces of any size;
 *  - an error found before the body ends is answered at once; the rest of the body is read
 *    and dropped (up to HTTP_DRAIN_MAX) so that the client sees the answer, then the
 *    connection closes; a body that breaks (bad chunk) gets 400 and the connection closes;
 *  - a connection idle for HTTP_IDLE_TIMEOUT_MS is closed; a request head not complete
 *    HTTP_HEAD_TIMEOUT_MS after its first byte, or a body slower than HTTP_BODY_MIN_RATE over
 *    a window of HTTP_BODY_RATE_WINDOW_MS, is answered 408 and closed; one that ends
 *    mid-upload, any of these ways, aborts the upload: nothing is left bootable;
 *  - it says how long a connection has held its place without doing what it is there for
 *    (http_conn_stalled_ms), so that the glue can give the place of the worst to a new one.
 * The answers are http_response.h's, who the client is http_login.h's, the uploads
 * http_upload.h's.
 */
#ifndef IAPD_HTTP_CORE_H
#define IAPD_HTTP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "http_auth.h"
#include "http_login.h"
#include "http_opts.h"
#include "http_request.h"
#include "http_response.h"
#include "http_upload.h"
#include "image_sink.h"

struct http_server_config {
  const struct image_sink_ops *sink;
  void *sink_ctx;
  const struct board *board;         /* its RNG makes the session tokens */
  const char *user;                  /* login and Basic auth */
  const char *password;
  uint32_t session_timeout_ms;       /* 0: HTTP_SESSION_TIMEOUT_MS */
  uint32_t user_flash_base;          /* for the pages and the 413 check */
  uint32_t user_flash_size;
  /* The receive window a connection offers, from its SYN-ACK on, in bytes; 0 or TCP_WND and
   * above: TCP_WND (src/tcp_initial.h). iapd sets what the board's receive ring holds while
   * the flash stalls it (the firmware's TCP_WND is that already): a larger window loses its
   * tail at every stall. */
  uint32_t tcp_window;
  /* Asked for by POST /resetmcu.cgi once its page is sent: reset the board without Key.
   * Called from the network stack's context: the daemon defers the reset to its main loop;
   * the firmware calls NVIC_SystemReset(). */
  void (*request_reset)(void *ctx);
  void *reset_ctx;
};

/* What every connection shares: the configuration and the sessions. */
struct http_app {
  struct http_server_config cfg;
  struct http_auth auth;
  uint32_t uploads_ok;
  uint32_t uploads_failed;
};

struct http_conn_ops {
  /* Queues up to len bytes for sending; returns how many it took (maybe 0: no room now, the
   * core tries again on http_conn_on_sent). With copy false the bytes are in ROM and stay
   * valid. */
  size_t (*send)(void *ctx, const void *data, size_t len, bool copy);
  /* Pushes what was queued onto the wire. */
  void (*flush)(void *ctx);
  /* Everything is queued: close once it is sent; then, with reset, call request_reset.
   * The core does not touch the connection again. */
  void (*close)(void *ctx, bool reset);
};

enum http_phase { HTTP_PHASE_HEAD, HTTP_PHASE_BODY, HTTP_PHASE_CLOSING, HTTP_PHASE_CLOSED };

/* Who reads the request's body. */
enum http_handler {
  HTTP_H_NONE,                        /* between requests */
  HTTP_H_DISCARD,                     /* nobody: it is read and dropped */
  HTTP_H_LOGIN,                       /* the login form (http_login.c) */
  HTTP_H_MULTIPART,                   /* the upload form (http_upload.c) */
  HTTP_H_RAW,                         /* the raw image (http_upload.c); errors are JSON */
};

struct http_conn {
  /* The fields every step reads come first: on Cortex-M, offsets this small fit the 16-bit
   * load and store encodings (a plain reordering saves flash on the firmware). */
  struct http_app *app;
  const struct http_conn_ops *ops;
  void *ctx;
  enum http_phase phase;
  enum http_handler handler;
  bool close_after;                   /* close once the answer is sent */
  bool reset_after;
  uint32_t drained;                   /* body bytes dropped after an early answer */
  uint32_t last_active_ms;
  uint32_t waiting_since_ms;          /* HEAD: since when it waits for this request */
  uint32_t head_started_ms;           /* HEAD: when the head's first byte came */
  uint32_t window_start_ms;           /* BODY: the rate window's start, and its bytes */
  uint32_t window_bytes;
  char peer[24];                      /* "a.b.c.d:port" */

  struct http_request_parser parser;
  struct http_body body;

  /* The state of the handler reading the body: one at a time, so they share the RAM. */
  union {
    struct http_login_state login;    /* HTTP_H_LOGIN */
    struct http_upload_state upload;  /* HTTP_H_MULTIPART, HTTP_H_RAW */
  };

  struct http_out out;                /* the answer being sent */
};

/* Sets up the shared state; cfg is copied (its strings must outlive the app). */
void http_app_init(struct http_app *app, const struct http_server_config *cfg);

void http_conn_init(struct http_conn *c, struct http_app *app, const struct http_conn_ops *ops,
                    void *ctx, const char *peer, uint32_t now_ms);

/* Bytes received. Returns how many were taken: fewer than len while an answer is still being
 * sent and the rest belongs to the next request (offer it again after http_conn_on_sent). */
size_t http_conn_input(struct http_conn *c, const uint8_t *data, size_t len, uint32_t now_ms);

/* The stack took sent data off the queue: room for more. */
void http_conn_on_sent(struct http_conn *c, uint32_t now_ms);

/* Called now and then (every second or so): closes an idle connection, a head past its
 * deadline, a body below the minimum rate. */
void http_conn_poll(struct http_conn *c, uint32_t now_ms);

/* True while the connection waits for a request: between requests, or in a head not yet
 * complete, with nothing left to send. Losing it costs the client nothing but a new connection. */
bool http_conn_waiting(const struct http_conn *c);

/* How long, in ms, the connection has held its place without doing what it is there for:
 * waiting, the time since it began to wait for this request (an idle keep-alive and a
 * trickled head alike); reading a body, how far it is behind HTTP_BODY_MIN_RATE in the
 * current window; sending, the time since the client last took anything. 0 for a connection
 * working at speed. */
uint32_t http_conn_stalled_ms(const struct http_conn *c, uint32_t now_ms);

/* True while the connection works at speed: a request in progress, not behind the body
 * rate, and, reading a body, some of it in already (a head sent whole and a body never
 * started is a slow client's first step). Only such a one keeps its place from a new
 * connection. */
bool http_conn_at_speed(const struct http_conn *c, uint32_t now_ms);

/* The peer closed or the connection broke (or the server stops): an upload in progress is
 * aborted. The core does not call close after this. */
void http_conn_closed(struct http_conn *c, const char *why);

/* True while the connection has an upload in progress. */
bool http_conn_uploading(const struct http_conn *c);

/* --- for the handlers (http_routes.c, http_login.c, http_upload.c) ------------------------ */

/* An answer before the body ended, or instead of it: the connection closes after it, and the
 * rest of the body is read and dropped (up to HTTP_DRAIN_MAX) so that the client, still
 * sending, reads the answer instead of a reset. */
void http_conn_answer_early(struct http_conn *c);

/* Call once the early answer is queued: when no body follows (it is all here already, or the
 * client waits for a 100 Continue that will not come), the connection closes after the answer. */
void http_conn_end_early(struct http_conn *c);

/* An early error: the error in the endpoint's format (http_send_error), as an early answer
 * (answer_early, end_early). */
void http_conn_early_error(struct http_conn *c, int status, const char *message,
                           const char *extra);

#endif
