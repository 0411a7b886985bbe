/*
 * The HTTP IAP server's protocol logic, one struct http_conn per TCP connection, no sockets
 * and no clock: the lwIP glue (http_server.c) feeds received bytes and the time in, and gives
 * each connection callbacks to send bytes and to close. Tests drive it the same way and see
 * every byte it sends.
 *
 * Pages and endpoints (AN3376 section 4, with real sessions):
 *   GET  /                 login page (also /index.html, /login.html)
 *   POST /checklogin.cgi   urlencoded username, password: the upload page and a session
 *                          cookie (HttpOnly, SameSite=Strict), or the login page again (403)
 *   GET  /upload.html      the upload page, with a session
 *   POST /upload.cgi       multipart/form-data, file field "datafile", with a session: the
 *                          done page with size and CRC-32 and a RESET MCU button
 *   POST /resetmcu.cgi     with a session: resets the board (without Key) once the page is
 *                          sent, through the request_reset callback
 *   POST /logout.cgi       ends the session
 *   PUT  /firmware         (or POST with Content-Type application/octet-stream) the raw
 *                          image, HTTP Basic auth, a JSON answer: for scripts and curl -T
 *
 * Uploads stream into the image sink as they arrive; the sink (the flash writer) checks the
 * vector table before erasing, holds back the first 8 bytes and refuses a second upload
 * (409). Content-Length too large for the user area gets 413 before anything is erased.
 * Errors found before the body ends are answered at once; the rest of the body is read and
 * dropped (up to HTTP_DRAIN_MAX) so that the client sees the answer, then the connection
 * closes. A connection that ends mid-upload aborts the upload: nothing is left bootable.
 */
#ifndef IAPD_HTTP_CORE_H
#define IAPD_HTTP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_auth.h"
#include "http_login.h"
#include "http_opts.h"
#include "http_request.h"
#include "http_response.h"
#include "http_upload.h"
#include "image_sink.h"
#include "multipart.h"

struct http_server_config {
  const struct image_sink_ops *sink;
  void *sink_ctx;
  const char *user;                  /* login and Basic auth */
  const char *password;
  uint32_t session_timeout_ms;       /* 0: HTTP_SESSION_TIMEOUT_MS */
  uint32_t user_flash_base;          /* for the pages and the 413 check */
  uint32_t user_flash_size;
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

enum http_handler { HTTP_H_NONE, HTTP_H_DISCARD, HTTP_H_LOGIN, HTTP_H_MULTIPART, HTTP_H_RAW };

struct http_conn {
  struct http_app *app;
  const struct http_conn_ops *ops;
  void *ctx;
  char peer[24];                      /* "a.b.c.d:port" */
  uint32_t last_active_ms;
  enum http_phase phase;

  struct http_request_parser parser;
  struct http_body body;
  enum http_handler handler;
  bool close_after;                   /* close once the answer is sent */
  bool reset_after;
  uint32_t drained;                   /* body bytes dropped after an early answer */

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

/* Called now and then (every second or so): closes an idle connection. */
void http_conn_poll(struct http_conn *c, uint32_t now_ms);

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

/* An early error: answer_early, the JSON error for the script endpoint (HTTP_H_RAW) or the
 * error page for the rest, then end_early. */
void http_conn_early_error(struct http_conn *c, int status, const char *message,
                           const char *extra);

#endif
