/* The HTTP IAP server's protocol logic (see http_core.h). */
#include "http_core.h"

#include <string.h>

#include "http_routes.h"
#include "iap_format.h"
#include "log.h"

static uint32_t elapsed(uint32_t now_ms, uint32_t then_ms)
{
  return now_ms - then_ms;
}

void http_app_init(struct http_app *app, const struct http_server_config *cfg)
{
  memset(app, 0, sizeof(*app));
  app->cfg = *cfg;
  if (app->cfg.session_timeout_ms == 0)
    app->cfg.session_timeout_ms = HTTP_SESSION_TIMEOUT_MS;
  http_auth_init(&app->auth, cfg->board, cfg->user, cfg->password,
                 app->cfg.session_timeout_ms);
}

void http_conn_init(struct http_conn *c, struct http_app *app, const struct http_conn_ops *ops,
                    void *ctx, const char *peer, uint32_t now_ms)
{
  memset(c, 0, sizeof(*c));
  c->app = app;
  c->ops = ops;
  c->ctx = ctx;
  iap_snprintf(c->peer, sizeof(c->peer), "%s", peer);
  c->last_active_ms = now_ms;
  c->waiting_since_ms = now_ms;
  c->phase = HTTP_PHASE_HEAD;
  http_request_init(&c->parser);
}

bool http_conn_uploading(const struct http_conn *c)
{
  return http_upload_active(c);
}

/* --- request flow -------------------------------------------------------------------------- */

/* The request is answered: read the next one, or close. Safe to call again. */
static void next_request(struct http_conn *c)
{
  if (c->phase == HTTP_PHASE_CLOSING || c->phase == HTTP_PHASE_CLOSED)
    return;
  if (c->close_after) {
    c->phase = HTTP_PHASE_CLOSING;
    http_out_close_if_sent(c);
    return;
  }
  c->phase = HTTP_PHASE_HEAD;
  c->handler = HTTP_H_NONE;
  c->drained = 0;
  c->waiting_since_ms = c->last_active_ms;  /* the time of the last input or send: now */
  http_request_init(&c->parser);
}

void http_conn_answer_early(struct http_conn *c)
{
  c->close_after = true;
  c->handler = HTTP_H_DISCARD;
}

void http_conn_end_early(struct http_conn *c)
{
  if (http_body_done(&c->body) || c->parser.req.expect_continue)
    next_request(c);  /* closes */
}

void http_conn_early_error(struct http_conn *c, int status, const char *message,
                           const char *extra)
{
  c->close_after = true;  /* for the head: Connection: close */
  http_send_error(c, status, message, extra);  /* while the handler still says the format */
  http_conn_answer_early(c);
  http_conn_end_early(c);
}

/* --- the body ------------------------------------------------------------------------------ */

static void body_data(struct http_conn *c, const uint8_t *data, size_t len)
{
  switch (c->handler) {
  case HTTP_H_NONE:
  case HTTP_H_DISCARD:
    c->drained += (uint32_t)len;
    if (c->drained > HTTP_DRAIN_MAX) {
      c->close_after = true;
      next_request(c);
    }
    return;
  case HTTP_H_LOGIN:
    http_login_body(c, data, len);
    return;
  case HTTP_H_MULTIPART:
  case HTTP_H_RAW:
    http_upload_body(c, data, len);
    return;
  }
}

static void body_done(struct http_conn *c, uint32_t now_ms)
{
  switch (c->handler) {
  case HTTP_H_LOGIN:
    http_login_done(c, now_ms);
    break;
  case HTTP_H_MULTIPART:
  case HTTP_H_RAW:
    http_upload_done(c);
    break;
  default:
    break;
  }
  next_request(c);
}

/* The head is in: the route answers or takes the body. */
static void start_request(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;

  c->close_after = !r->keep_alive;
  c->handler = HTTP_H_DISCARD;  /* unless a route reads the body */
  http_body_init(&c->body, r);
  log_debug("http", "%s %s %s", c->peer, r->method_text, r->path);
  http_route_request(c, now_ms);
  if (c->phase != HTTP_PHASE_HEAD)
    return;  /* an early answer closed the connection */
  if (http_body_done(&c->body)) {
    body_done(c, now_ms);  /* no body, or all of it came with the head */
  } else {
    c->phase = HTTP_PHASE_BODY;
    c->window_start_ms = now_ms;
    c->window_bytes = 0;
  }
}

static void body_failed(struct http_conn *c)
{
  const char *why = c->body.error;
  http_upload_abort(c, why);
  if (c->handler != HTTP_H_DISCARD && c->handler != HTTP_H_NONE) {
    /* The error page even for PUT /firmware, whose other errors are JSON: this is what the
     * server has always sent here (a JSON branch that tested the handler after answer_early
     * made it DISCARD never ran). Changing it changes what scripts see: not a refactoring. */
    http_conn_answer_early(c);
    http_send_error_page(c, 400, why, NULL);
  }
  c->close_after = true;
  next_request(c);
}

size_t http_conn_input(struct http_conn *c, const uint8_t *data, size_t len, uint32_t now_ms)
{
  size_t i = 0;

  c->last_active_ms = now_ms;
  while (i < len) {
    switch (c->phase) {
    case HTTP_PHASE_HEAD: {
      if (http_out_pending(&c->out))
        return i;  /* the last answer is still going out: the next request waits */
      if (c->parser.head_bytes == 0)
        c->head_started_ms = now_ms;  /* the deadline runs from the first byte */
      i += http_request_feed(&c->parser, data + i, len - i);
      if (c->parser.state == RQ_FAILED) {
        log_warn("http", "bad request from %s: %d %s", c->peer, c->parser.status,
                 c->parser.error);
        c->close_after = true;
        http_send_error_page(c, c->parser.status, c->parser.error, NULL);
        c->phase = HTTP_PHASE_CLOSING;
        http_out_close_if_sent(c);
        return len;
      }
      if (c->parser.state == RQ_DONE)
        start_request(c, now_ms);
      break;
    }
    case HTTP_PHASE_BODY: {
      const uint8_t *out;
      size_t out_len;
      size_t used = http_body_decode(&c->body, data + i, len - i, &out, &out_len);
      i += used;
      c->window_bytes += (uint32_t)used;
      if (out_len > 0)
        body_data(c, out, out_len);
      if (c->phase != HTTP_PHASE_BODY)
        break;
      if (http_body_failed(&c->body))
        body_failed(c);
      else if (http_body_done(&c->body))
        body_done(c, now_ms);
      break;
    }
    case HTTP_PHASE_CLOSING:
    case HTTP_PHASE_CLOSED:
      return len;  /* after the answer: read and dropped */
    }
  }
  return i;
}

void http_conn_on_sent(struct http_conn *c, uint32_t now_ms)
{
  if (c->phase == HTTP_PHASE_CLOSED)
    return;
  c->last_active_ms = now_ms;
  http_out_pump(c);
}

/* A client too slow for its request: closed, its upload aborted. With answer, a 408 (RFC 9110
 * 15.5.9) in the endpoint's format goes first, unless the request was answered already. */
static void close_slow(struct http_conn *c, const char *why, bool answer)
{
  http_upload_abort(c, why);  /* logs when it aborts */
  log_debug("http", "closing the connection from %s: %s", c->peer, why);
  c->reset_after = false;
  if (!answer)
    http_out_drop(&c->out);
  else if (c->handler != HTTP_H_DISCARD && !http_out_pending(&c->out)) {
    c->close_after = true;
    http_send_error(c, 408, why, NULL);
  }
  c->phase = HTTP_PHASE_CLOSING;
  http_out_close_if_sent(c);
}

/* Longest time the rate arithmetic sees: ms * HTTP_BODY_MIN_RATE stays within 32 bits (no
 * 64-bit division, a 700-byte libgcc routine on the firmware). A window is polled long
 * before. */
#define RATE_SPAN_MAX_MS 1000000u
_Static_assert((uint64_t)RATE_SPAN_MAX_MS * HTTP_BODY_MIN_RATE <= 0xFFFFFFFFu,
               "HTTP_BODY_MIN_RATE too large for 32-bit rate arithmetic");

/* Bytes the minimum rate asks for in ms milliseconds. */
static uint32_t min_bytes(uint32_t ms)
{
  if (ms > RATE_SPAN_MAX_MS)
    ms = RATE_SPAN_MAX_MS;
  return ms * HTTP_BODY_MIN_RATE / 1000u;
}

void http_conn_poll(struct http_conn *c, uint32_t now_ms)
{
  if (c->phase == HTTP_PHASE_CLOSED)
    return;
  if (http_out_pending(&c->out))
    http_out_pump(c);
  char why[64];
  if (c->phase == HTTP_PHASE_HEAD && c->parser.head_bytes > 0
      && elapsed(now_ms, c->head_started_ms) >= HTTP_HEAD_TIMEOUT_MS) {
    iap_snprintf(why, sizeof(why), "the request head did not arrive within %u ms",
                 (unsigned)HTTP_HEAD_TIMEOUT_MS);
    close_slow(c, why, true);
    return;
  }
  if (c->phase == HTTP_PHASE_BODY
      && elapsed(now_ms, c->window_start_ms) >= HTTP_BODY_RATE_WINDOW_MS) {
    if (c->window_bytes < min_bytes(HTTP_BODY_RATE_WINDOW_MS)) {
      iap_snprintf(why, sizeof(why), "the request body arrived slower than %u bytes/s",
                   (unsigned)HTTP_BODY_MIN_RATE);
      close_slow(c, why, true);
      return;
    }
    c->window_start_ms = now_ms;
    c->window_bytes = 0;
  }
  if (c->phase != HTTP_PHASE_CLOSED && elapsed(now_ms, c->last_active_ms) >= HTTP_IDLE_TIMEOUT_MS)
    close_slow(c, "the client sent nothing for too long", false);
}

bool http_conn_waiting(const struct http_conn *c)
{
  return c->phase == HTTP_PHASE_HEAD && !http_out_pending(&c->out);
}

uint32_t http_conn_stalled_ms(const struct http_conn *c, uint32_t now_ms)
{
  if (http_conn_waiting(c))
    return elapsed(now_ms, c->waiting_since_ms);
  if (c->phase == HTTP_PHASE_BODY) {
    uint32_t window = elapsed(now_ms, c->window_start_ms);
    uint32_t due = min_bytes(window);
    if (c->window_bytes >= due)
      return 0;
    /* behind by the time the missing bytes take at the minimum rate */
    return (due - c->window_bytes) / HTTP_BODY_MIN_RATE * 1000u
           + (due - c->window_bytes) % HTTP_BODY_MIN_RATE * 1000u / HTTP_BODY_MIN_RATE;
  }
  if (c->phase == HTTP_PHASE_CLOSED)
    return 0;
  return elapsed(now_ms, c->last_active_ms);  /* an answer the client does not take */
}

bool http_conn_at_speed(const struct http_conn *c, uint32_t now_ms)
{
  if (http_conn_waiting(c) || c->phase == HTTP_PHASE_CLOSED)
    return false;
  if (c->phase == HTTP_PHASE_BODY && c->window_bytes == 0 && c->body.decoded == 0)
    return false;
  return http_conn_stalled_ms(c, now_ms) == 0;
}

void http_conn_closed(struct http_conn *c, const char *why)
{
  http_upload_abort(c, why);
  c->phase = HTTP_PHASE_CLOSED;
}
