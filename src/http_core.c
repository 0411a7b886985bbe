/* The HTTP IAP server's protocol logic (see http_core.h). */
#include "http_core.h"

#include <stdio.h>
#include <string.h>

#include "http_fs.h"
#include "http_text.h"
#include "log.h"

/* The smallest multipart body carrying a file of N bytes is N plus this plus twice the
 * boundary: "--B\r\n" "Content-Disposition:form-data;name=datafile\r\n" "\r\n" ... "\r\n--B--"
 * (RFC 7578). A Content-Length beyond that cannot fit, whatever the form holds. */
#define MULTIPART_MIN_OVERHEAD (4u + 45u + 2u + 6u)

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
  http_auth_init(&app->auth, cfg->user, cfg->password, app->cfg.session_timeout_ms);
}

void http_conn_init(struct http_conn *c, struct http_app *app, const struct http_conn_ops *ops,
                    void *ctx, const char *peer, uint32_t now_ms)
{
  memset(c, 0, sizeof(*c));
  c->app = app;
  c->ops = ops;
  c->ctx = ctx;
  snprintf(c->peer, sizeof(c->peer), "%s", peer);
  c->last_active_ms = now_ms;
  c->phase = HTTP_PHASE_HEAD;
  http_request_init(&c->parser);
}

bool http_conn_uploading(const struct http_conn *c)
{
  return c->uploading;
}

/* --- request flow ------------------------------------------------------------------------ */

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
  http_request_init(&c->parser);
}

static bool is_raw_handler(const struct http_conn *c)
{
  return c->handler == HTTP_H_RAW;
}

static void abort_upload(struct http_conn *c, const char *why)
{
  if (!c->uploading)
    return;
  c->uploading = false;
  c->app->cfg.sink->abort(c->app->cfg.sink_ctx, why);
  c->app->uploads_failed++;
  log_warn("http", "upload from %s failed after %u bytes: %s", c->peer,
           (unsigned)c->upload_bytes, why);
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
  bool raw = is_raw_handler(c);
  http_conn_answer_early(c);
  if (raw)
    http_send_json_error(c, status, message, extra);
  else
    http_send_error_page(c, status, message, extra);
  http_conn_end_early(c);
}

/* --- uploads ------------------------------------------------------------------------------ */

static bool begin_upload(struct http_conn *c, uint32_t expected, const char *what)
{
  const struct http_request *r = &c->parser.req;
  enum iap_status st = c->app->cfg.sink->begin(c->app->cfg.sink_ctx, "HTTP", c->peer,
                                               expected, &c->err);
  if (st != IAP_OK) {
    log_warn("http", "upload from %s refused: %s", c->peer, c->err.message);
    http_conn_early_error(c, http_status_of(st), c->err.message, NULL);
    return false;
  }
  c->uploading = true;
  c->upload_bytes = 0;
  if (r->chunked)
    log_info("http", "upload from %s started (%s, chunked)", c->peer, what);
  else
    log_info("http", "upload from %s started (%s, %u bytes)", c->peer, what,
             (unsigned)r->content_length);
  return true;
}

static bool write_upload(struct http_conn *c, const uint8_t *data, size_t len)
{
  if (c->app->cfg.sink->write(c->app->cfg.sink_ctx, data, len, &c->err) != IAP_OK)
    return false;
  c->upload_bytes += (uint32_t)len;
  return true;
}

/* The sink refused data: answer with its reason, drop the rest of the body. */
static void upload_failed(struct http_conn *c, int status, const char *message)
{
  abort_upload(c, message);
  http_conn_early_error(c, status, message, NULL);
}

static bool mp_part_begin(void *ctx, const char *name, bool is_file)
{
  struct http_conn *c = ctx;
  (void)is_file;
  if (strcmp(name, "datafile") != 0)
    return true;  /* other fields are read past */
  if (c->datafile_seen) {
    c->err.status = IAP_ERR_INVALID_IMAGE;
    snprintf(c->err.message, sizeof(c->err.message), "the form holds two datafile fields");
    return false;
  }
  c->datafile_seen = true;
  c->in_datafile = true;
  return true;
}

static bool mp_part_data(void *ctx, const uint8_t *data, size_t len)
{
  struct http_conn *c = ctx;
  return !c->in_datafile || write_upload(c, data, len);
}

static bool mp_part_end(void *ctx)
{
  struct http_conn *c = ctx;
  c->in_datafile = false;
  return true;
}

static const struct multipart_callbacks mp_callbacks = {
  .part_begin = mp_part_begin,
  .part_data = mp_part_data,
  .part_end = mp_part_end,
};

static void start_multipart(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  const struct http_server_config *cfg = &c->app->cfg;
  char boundary[MULTIPART_BOUNDARY_MAX + 1];
  char msg[200];

  if (!http_login_has_session(c, now_ms)) {
    log_warn("http", "upload from %s refused: no session", c->peer);
    http_login_refuse(c, true);
    return;
  }
  if (!multipart_boundary_from_content_type(r->content_type, boundary, sizeof(boundary))) {
    http_conn_early_error(c, 415, "expected Content-Type multipart/form-data with a boundary", NULL);
    return;
  }
  if (!r->chunked && !r->has_content_length) {
    http_conn_early_error(c, 411, "the upload needs a Content-Length or chunked transfer coding",
                NULL);
    return;
  }
  size_t blen = strlen(boundary);
  if (r->has_content_length
      && r->content_length > cfg->user_flash_size + MULTIPART_MIN_OVERHEAD + 2u * blen) {
    snprintf(msg, sizeof(msg),
             "image too large: the request is %u bytes, the user flash 0x%08x-0x%08x holds "
             "%u bytes", (unsigned)r->content_length, (unsigned)cfg->user_flash_base,
             (unsigned)(cfg->user_flash_base + cfg->user_flash_size - 1u),
             (unsigned)cfg->user_flash_size);
    log_warn("http", "upload from %s refused: %s", c->peer, msg);
    http_conn_early_error(c, 413, msg, NULL);
    return;
  }
  c->handler = HTTP_H_MULTIPART;
  c->datafile_seen = false;
  c->in_datafile = false;
  c->err.status = IAP_OK;
  c->err.message[0] = '\0';
  multipart_init(&c->mp, boundary, blen, &mp_callbacks, c);
  if (!begin_upload(c, 0, "form"))
    return;
  http_send_continue(c);
}

static void start_raw(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;

  c->handler = HTTP_H_RAW;  /* answers are JSON from here */
  if (!http_login_basic(c, now_ms))
    return;
  if (!r->chunked && !r->has_content_length) {
    http_conn_early_error(c, 411, "the upload needs a Content-Length or chunked transfer coding",
                NULL);
    return;
  }
  if (!begin_upload(c, r->has_content_length ? r->content_length : 0, "raw"))
    return;
  http_send_continue(c);
}

static void upload_done(struct http_conn *c)
{
  const struct http_server_config *cfg = &c->app->cfg;
  struct iap_result result;
  char text[HTTP_PAGE_TEXT_MAX];
  bool raw = c->handler == HTTP_H_RAW;

  if (!raw) {
    if (multipart_finish(&c->mp) != MULTIPART_OK) {
      upload_failed(c, 400, multipart_error(&c->mp));
      return;
    }
    if (!c->datafile_seen) {
      upload_failed(c, 400, "the form has no file field named datafile");
      return;
    }
  }
  c->uploading = false;
  if (cfg->sink->finish(cfg->sink_ctx, &result, &c->err) != IAP_OK) {
    c->app->uploads_failed++;
    log_warn("http", "upload from %s failed: %s", c->peer, c->err.message);
    c->close_after = true;
    if (raw)
      http_send_json_error(c, http_status_of(c->err.status), c->err.message, NULL);
    else
      http_send_error_page(c, http_status_of(c->err.status), c->err.message, NULL);
    return;
  }
  c->app->uploads_ok++;
  log_info("http", "upload from %s complete: %u bytes, CRC-32 0x%08x; reset to run it",
           c->peer, (unsigned)result.size, (unsigned)result.crc32);
  if (raw) {
    int n = snprintf(c->out.text, sizeof(c->out.text),
                     "{\"ok\":true,\"size\":%u,\"crc32\":\"0x%08x\",\"address\":\"0x%08x\"}\n",
                     (unsigned)result.size, (unsigned)result.crc32,
                     (unsigned)cfg->user_flash_base);
    http_send_text(c, 200, "application/json", (size_t)n, NULL);
    return;
  }
  snprintf(text, sizeof(text), "%u bytes written at 0x%08x, CRC-32 0x%08x.",
           (unsigned)result.size, (unsigned)cfg->user_flash_base, (unsigned)result.crc32);
  http_send_page(c, 200, "/done.html", text, NULL);
}

/* --- routing ------------------------------------------------------------------------------ */

static void method_not_allowed(struct http_conn *c, const char *allow)
{
  char extra[64];
  snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
  http_send_error_page(c, 405, "method not allowed here", extra);
}

static void dispatch(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  const char *path = r->path;
  bool get = r->method == HTTP_METHOD_GET || r->method == HTTP_METHOD_HEAD;
  bool post = r->method == HTTP_METHOD_POST;

  c->close_after = !r->keep_alive;
  c->handler = HTTP_H_DISCARD;  /* unless a route reads the body */
  http_body_init(&c->body, r);
  log_debug("http", "%s %s %s", c->peer, r->method_text, path);

  if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0
      || strcmp(path, "/login.html") == 0) {
    if (get)
      http_login_page(c, now_ms);
    else
      method_not_allowed(c, "GET, HEAD");
  } else if (strcmp(path, "/checklogin.cgi") == 0) {
    if (!post)
      method_not_allowed(c, "POST");
    else
      http_login_check(c, now_ms);
  } else if (strcmp(path, "/upload.html") == 0) {
    if (!get)
      method_not_allowed(c, "GET, HEAD");
    else
      http_login_upload_page(c, now_ms);
  } else if (strcmp(path, "/upload.cgi") == 0) {
    if (!post)
      method_not_allowed(c, "POST");
    else
      start_multipart(c, now_ms);
  } else if (strcmp(path, "/firmware") == 0) {
    if (r->method == HTTP_METHOD_PUT)
      start_raw(c, now_ms);
    else if (post && http_prefix_ci(r->content_type, "application/octet-stream"))
      start_raw(c, now_ms);  /* a type no cross-site form can send without a preflight */
    else if (post)
      http_send_json_error(c, 415, "POST /firmware takes Content-Type application/octet-stream",
                      NULL);
    else
      method_not_allowed(c, "PUT, POST");
  } else if (strcmp(path, "/resetmcu.cgi") == 0) {
    if (!post) {
      method_not_allowed(c, "POST");
    } else if (!http_login_has_session(c, now_ms)) {
      log_warn("http", "reset from %s refused: no session", c->peer);
      http_login_refuse(c, false);
    } else {
      log_info("http", "reset requested by %s", c->peer);
      c->close_after = true;
      c->reset_after = c->app->cfg.request_reset != NULL;
      http_send_page(c, 200, "/reset.html", "Resetting the board.", NULL);
    }
  } else if (strcmp(path, "/logout.cgi") == 0) {
    if (!post)
      method_not_allowed(c, "POST");
    else
      http_login_logout(c, now_ms);
  } else {
    const struct http_fs_file *f = http_fs_find(path);
    /* Pages with a marker are templates, served only through their routes. */
    if (f != NULL && f->marker < 0 && get)
      http_send_page(c, 200, path, NULL, NULL);
    else if (f != NULL && f->marker < 0)
      method_not_allowed(c, "GET, HEAD");
    else
      http_send_error_page(c, 404, "no such page", NULL);
  }

  if (c->phase != HTTP_PHASE_HEAD)
    return;  /* an early answer closed the connection */
  if (http_body_done(&c->body)) {
    if (c->handler == HTTP_H_LOGIN)
      http_login_done(c, now_ms);
    else if (c->handler == HTTP_H_MULTIPART || c->handler == HTTP_H_RAW)
      upload_done(c);
    next_request(c);
  } else {
    c->phase = HTTP_PHASE_BODY;
  }
}

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
    if (multipart_feed(&c->mp, data, len) != MULTIPART_OK) {
      if (c->err.status != IAP_OK)
        upload_failed(c, http_status_of(c->err.status), c->err.message);
      else
        upload_failed(c, 400, multipart_error(&c->mp));
    }
    return;
  case HTTP_H_RAW:
    if (!write_upload(c, data, len))
      upload_failed(c, http_status_of(c->err.status), c->err.message);
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
    upload_done(c);
    break;
  default:
    break;
  }
  next_request(c);
}

static void body_failed(struct http_conn *c)
{
  const char *why = c->body.error;
  if (c->uploading)
    abort_upload(c, why);
  if (c->handler != HTTP_H_DISCARD && c->handler != HTTP_H_NONE) {
    http_conn_answer_early(c);
    if (c->handler == HTTP_H_RAW)
      http_send_json_error(c, 400, why, NULL);
    else
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
        dispatch(c, now_ms);
      break;
    }
    case HTTP_PHASE_BODY: {
      const uint8_t *out;
      size_t out_len;
      i += http_body_decode(&c->body, data + i, len - i, &out, &out_len);
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

void http_conn_poll(struct http_conn *c, uint32_t now_ms)
{
  if (c->phase == HTTP_PHASE_CLOSED)
    return;
  if (http_out_pending(&c->out))
    http_out_pump(c);
  if (c->phase == HTTP_PHASE_CLOSED || elapsed(now_ms, c->last_active_ms) < HTTP_IDLE_TIMEOUT_MS)
    return;
  if (c->uploading)
    abort_upload(c, "the client sent nothing for too long");
  else
    log_debug("http", "closing idle connection from %s", c->peer);
  c->out.count = c->out.next = 0;
  c->reset_after = false;
  c->phase = HTTP_PHASE_CLOSING;
  http_out_close_if_sent(c);
}

void http_conn_closed(struct http_conn *c, const char *why)
{
  if (c->uploading)
    abort_upload(c, why);
  c->phase = HTTP_PHASE_CLOSED;
}
