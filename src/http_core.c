/* The HTTP IAP server's protocol logic (see http_core.h). */
#include "http_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http_fs.h"
#include "http_text.h"
#include "log.h"

#define MARKER_LEN (sizeof(HTTP_FS_MARKER) - 1)
#define EXTRA_MAX 192

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* The smallest multipart body carrying a file of N bytes is N plus this plus twice the
 * boundary: "--B\r\n" "Content-Disposition:form-data;name=datafile\r\n" "\r\n" ... "\r\n--B--"
 * (RFC 7578). A real client's part headers are longer (a file name, a Content-Type): up to
 * MULTIPART_HEADER_SLACK more is let through to the exact check at the file's first byte
 * (mp_part_begin); a Content-Length beyond both cannot carry a file that fits. */
#define MULTIPART_MIN_OVERHEAD (4u + 45u + 2u + 6u)
#define MULTIPART_HEADER_SLACK 512u

static const char *reason_phrase(int status)
{
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 417: return "Expectation Failed";
  case 422: return "Unprocessable Entity";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Error";
  }
}

static int status_of(enum iap_status s)
{
  switch (s) {
  case IAP_ERR_TOO_LARGE: return 413;
  case IAP_ERR_INVALID_IMAGE: return 422;
  case IAP_ERR_BUSY: return 409;
  case IAP_OK: return 200;
  default: return 500;
  }
}

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
  snprintf(c->peer, sizeof(c->peer), "%s", peer);
  c->last_active_ms = now_ms;
  c->phase = HTTP_PHASE_HEAD;
  http_request_init(&c->parser);
}

bool http_conn_uploading(const struct http_conn *c)
{
  return c->uploading;
}

/* --- output -------------------------------------------------------------------------------- */

static bool out_pending(const struct http_conn *c)
{
  return c->out_next < c->out_count;
}

static void out_add(struct http_conn *c, const void *data, size_t len, bool copy)
{
  if (len == 0)
    return;
  if (!out_pending(c)) {
    c->out_count = 0;
    c->out_next = 0;
  }
  if (c->out_count < HTTP_OUT_SEGMENTS)
    c->out[c->out_count++] = (struct http_out_segment){ data, len, copy };
}

static void maybe_close(struct http_conn *c)
{
  if (c->phase == HTTP_PHASE_CLOSING && !out_pending(c)) {
    c->phase = HTTP_PHASE_CLOSED;
    c->ops->close(c->ctx, c->reset_after);
  }
}

static void pump(struct http_conn *c)
{
  bool sent = false;
  while (out_pending(c)) {
    struct http_out_segment *s = &c->out[c->out_next];
    size_t n = c->ops->send(c->ctx, s->data, s->len, s->copy);
    if (n == 0)
      break;
    sent = true;
    s->data += n;
    s->len -= n;
    if (s->len == 0)
      c->out_next++;
  }
  if (sent)
    c->ops->flush(c->ctx);
  maybe_close(c);
}

/* Status line and headers into c->head. */
static void put_head(struct http_conn *c, int status, const char *content_type, size_t body_len,
                     const char *extra)
{
  const struct http_request *r = &c->parser.req;
  const char *connection = "";

  if (c->close_after)
    connection = "Connection: close\r\n";
  else if (r->version_minor == 0)
    connection = "Connection: keep-alive\r\n";
  int n = snprintf(c->head, sizeof(c->head),
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "Content-Length: %u\r\n"
                   "Cache-Control: no-store\r\n"
                   "X-Content-Type-Options: nosniff\r\n"
                   "X-Frame-Options: DENY\r\n"
                   "%s%s\r\n",
                   status, reason_phrase(status), content_type, (unsigned)body_len, connection,
                   extra ? extra : "");
  if (n < 0 || (size_t)n >= sizeof(c->head))
    n = 0;  /* cannot happen with the fixed texts above; send nothing rather than half */
  out_add(c, c->head, (size_t)n, true);
}

static bool head_only(const struct http_conn *c)
{
  return c->parser.req.method == HTTP_METHOD_HEAD;
}

/* A page from the ROM file system with text (escaped) at its marker. */
static void send_page(struct http_conn *c, int status, const char *path, const char *text,
                      const char *extra)
{
  const struct http_fs_file *f = http_fs_find(path);
  size_t text_len = http_html_escape(text ? text : "", c->text, sizeof(c->text));

  if (f == NULL) {
    /* The build always has the pages; a missing one is a build bug. Say so plainly. */
    text_len = (size_t)snprintf(c->text, sizeof(c->text), "%d %s (page %s missing)\n",
                                status, reason_phrase(status), path);
    put_head(c, status, "text/plain; charset=utf-8", text_len, extra);
    if (!head_only(c))
      out_add(c, c->text, text_len, true);
    pump(c);
    return;
  }
  if (f->marker < 0) {
    put_head(c, status, f->content_type, f->len, extra);
    if (!head_only(c))
      out_add(c, f->data, f->len, false);
  } else {
    size_t before = (size_t)f->marker;
    size_t after = f->len - before - MARKER_LEN;
    put_head(c, status, f->content_type, before + text_len + after, extra);
    if (!head_only(c)) {
      out_add(c, f->data, before, false);
      out_add(c, c->text, text_len, true);
      out_add(c, f->data + before + MARKER_LEN, after, false);
    }
  }
  pump(c);
}

/* The error page: "<status> <reason>: <message>". */
static void send_error_page(struct http_conn *c, int status, const char *message,
                            const char *extra)
{
  char text[HTTP_PAGE_TEXT_MAX];
  snprintf(text, sizeof(text), "%d %s: %s", status, reason_phrase(status), message);
  send_page(c, status, "/error.html", text, extra);
}

/* JSON string escaping (RFC 8259 7) of text into out. */
static size_t json_escape(const char *text, char *out, size_t size)
{
  size_t n = 0;
  for (; *text && n + 7 < size; text++) {
    unsigned char ch = (unsigned char)*text;
    if (ch == '"' || ch == '\\') {
      out[n++] = '\\';
      out[n++] = (char)ch;
    } else if (ch < 0x20) {
      n += (size_t)snprintf(out + n, size - n, "\\u%04x", ch);
    } else {
      out[n++] = (char)ch;
    }
  }
  out[n] = '\0';
  return n;
}

/* The answers of PUT /firmware: a JSON object. */
static void send_json_error(struct http_conn *c, int status, const char *message,
                            const char *extra)
{
  char escaped[HTTP_PAGE_TEXT_MAX - 64];
  json_escape(message, escaped, sizeof(escaped));
  int n = snprintf(c->text, sizeof(c->text), "{\"ok\":false,\"status\":%d,\"error\":\"%s\"}\n",
                   status, escaped);
  if (n < 0 || (size_t)n >= sizeof(c->text))
    n = (int)strlen(c->text);
  put_head(c, status, "application/json", (size_t)n, extra);
  if (!head_only(c))
    out_add(c, c->text, (size_t)n, true);
  pump(c);
}

/* --- request flow ------------------------------------------------------------------------ */

/* The request is answered: read the next one, or close. Safe to call again. */
static void next_request(struct http_conn *c)
{
  if (c->phase == HTTP_PHASE_CLOSING || c->phase == HTTP_PHASE_CLOSED)
    return;
  if (c->close_after) {
    c->phase = HTTP_PHASE_CLOSING;
    maybe_close(c);
    return;
  }
  c->phase = HTTP_PHASE_HEAD;
  c->handler = HTTP_H_NONE;
  c->respond_after_body = false;
  c->drained = 0;
  c->form_len = 0;
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

/*
 * An answer before the body ended (or instead of it): the rest of the body is read and
 * dropped, then the connection closes. When the client waits for 100 Continue, no body comes:
 * close once the answer is out.
 */
static void answer_early(struct http_conn *c)
{
  c->close_after = true;
  c->handler = HTTP_H_DISCARD;
  c->respond_after_body = false;
}

static void early_error(struct http_conn *c, int status, const char *message, const char *extra)
{
  bool raw = is_raw_handler(c);
  answer_early(c);
  if (raw)
    send_json_error(c, status, message, extra);
  else
    send_error_page(c, status, message, extra);
  if (http_body_done(&c->body) || c->parser.req.expect_continue)
    next_request(c);  /* closes */
}

static void send_continue(struct http_conn *c)
{
  if (c->parser.req.expect_continue && !http_body_done(&c->body)) {
    out_add(c, continue_line, sizeof(continue_line) - 1, false);
    pump(c);
    c->parser.req.expect_continue = false;  /* answered: the body comes */
  }
}

static bool has_session(struct http_conn *c, uint32_t now_ms)
{
  const char *token = c->parser.req.session;
  return token[0] != '\0' && http_auth_session_valid(&c->app->auth, token, now_ms);
}

static void login_page(struct http_conn *c, int status, const char *message, const char *extra)
{
  send_page(c, status, "/login.html", message, extra);
}

static void upload_page(struct http_conn *c, const char *extra)
{
  const struct http_server_config *cfg = &c->app->cfg;
  char text[160];
  snprintf(text, sizeof(text), "Images up to %u bytes (%u KiB) fit the user flash at 0x%08x.",
           (unsigned)cfg->user_flash_size, (unsigned)(cfg->user_flash_size / 1024u),
           (unsigned)cfg->user_flash_base);
  send_page(c, 200, "/upload.html", text, extra);
}

static void not_logged_in(struct http_conn *c, bool early)
{
  if (early)
    answer_early(c);
  login_page(c, 403, "Please log in first (no session, or it expired).", NULL);
  if (early && (http_body_done(&c->body) || c->parser.req.expect_continue))
    next_request(c);
}

/* --- POST /checklogin.cgi ------------------------------------------------------------------- */

static void login_done(struct http_conn *c, uint32_t now_ms)
{
  char user[HTTP_USER_MAX + 2] = "";
  char password[HTTP_PASSWORD_MAX + 2] = "";
  char token[HTTP_TOKEN_HEX_LEN + 1];
  char extra[EXTRA_MAX];
  uint32_t wait_ms;

  /* An absent or oversized field is an empty one: wrong, like any other. */
  if (!http_form_field(c->form, c->form_len, "username", user, sizeof(user)))
    user[0] = '\0';
  if (!http_form_field(c->form, c->form_len, "password", password, sizeof(password)))
    password[0] = '\0';
  enum http_login result = http_auth_login(&c->app->auth, user, password, now_ms, &wait_ms);
  memset(password, 0, sizeof(password));
  memset(c->form, 0, sizeof(c->form));
  switch (result) {
  case HTTP_LOGIN_OK:
    if (!http_auth_session_open(&c->app->auth, now_ms, token)) {
      log_err("http", "no random source for a session token");
      login_page(c, 503, "The board has no random source for a session; try again.", NULL);
      return;
    }
    log_info("http", "login from %s", c->peer);
    snprintf(extra, sizeof(extra),
             "Set-Cookie: " HTTP_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict\r\n",
             token);
    upload_page(c, extra);
    return;
  case HTTP_LOGIN_WRONG:
    log_warn("http", "failed login from %s", c->peer);
    login_page(c, 403, "Wrong user ID or password.", NULL);
    return;
  case HTTP_LOGIN_THROTTLED: {
    char text[120];
    unsigned s = (unsigned)((wait_ms + 999u) / 1000u);
    snprintf(text, sizeof(text), "Too many failed logins: try again in %u s.", s);
    snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", s);
    login_page(c, 429, text, extra);
    return;
  }
  }
}

/* --- uploads ------------------------------------------------------------------------------ */

static bool begin_upload(struct http_conn *c, uint32_t expected, const char *what)
{
  const struct http_request *r = &c->parser.req;
  enum iap_status st = c->app->cfg.sink->begin(c->app->cfg.sink_ctx, "HTTP", c->peer,
                                               expected, &c->err);
  if (st != IAP_OK) {
    log_warn("http", "upload from %s refused: %s", c->peer, c->err.message);
    early_error(c, status_of(st), c->err.message, NULL);
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
  early_error(c, status, message, NULL);
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
  /* Now the size is known, give or take what follows the file: the body's length less what
   * came before the file's first byte, the closing delimiter "\r\n--B--" and the CRLF that
   * browsers and curl send after it. A file larger than the user flash is refused here,
   * before its first byte is written and anything erased. (The check on Content-Length
   * alone, when the headers arrive, cannot tell a file one byte too large from one that fits
   * under a longer file name.) */
  const struct http_request *r = &c->parser.req;
  const struct http_server_config *cfg = &c->app->cfg;
  uint32_t framing = multipart_consumed(&c->mp) + (uint32_t)c->mp.delim_len + 2u + 2u;
  if (r->has_content_length && r->content_length > framing
      && r->content_length - framing > cfg->user_flash_size) {
    c->err.status = IAP_ERR_TOO_LARGE;
    snprintf(c->err.message, sizeof(c->err.message),
             "image too large: the request is %u bytes, the user flash 0x%08x-0x%08x holds "
             "%u bytes", (unsigned)r->content_length, (unsigned)cfg->user_flash_base,
             (unsigned)(cfg->user_flash_base + cfg->user_flash_size - 1u),
             (unsigned)cfg->user_flash_size);
    return false;
  }
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

  if (!has_session(c, now_ms)) {
    log_warn("http", "upload from %s refused: no session", c->peer);
    not_logged_in(c, true);
    return;
  }
  if (!multipart_boundary_from_content_type(r->content_type, boundary, sizeof(boundary))) {
    early_error(c, 415, "expected Content-Type multipart/form-data with a boundary", NULL);
    return;
  }
  if (!r->chunked && !r->has_content_length) {
    early_error(c, 411, "the upload needs a Content-Length or chunked transfer coding",
                NULL);
    return;
  }
  size_t blen = strlen(boundary);
  if (r->has_content_length
      && r->content_length > cfg->user_flash_size + MULTIPART_MIN_OVERHEAD + 2u * blen
                             + MULTIPART_HEADER_SLACK) {
    snprintf(msg, sizeof(msg),
             "image too large: the request is %u bytes, the user flash 0x%08x-0x%08x holds "
             "%u bytes", (unsigned)r->content_length, (unsigned)cfg->user_flash_base,
             (unsigned)(cfg->user_flash_base + cfg->user_flash_size - 1u),
             (unsigned)cfg->user_flash_size);
    log_warn("http", "upload from %s refused: %s", c->peer, msg);
    early_error(c, 413, msg, NULL);
    return;
  }
  c->handler = HTTP_H_MULTIPART;
  c->respond_after_body = true;
  c->datafile_seen = false;
  c->in_datafile = false;
  c->err.status = IAP_OK;
  c->err.message[0] = '\0';
  multipart_init(&c->mp, boundary, blen, &mp_callbacks, c);
  if (!begin_upload(c, 0, "form"))
    return;
  send_continue(c);
}

static void start_raw(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  char extra[EXTRA_MAX];
  char msg[120];
  uint32_t wait_ms;

  c->handler = HTTP_H_RAW;  /* answers are JSON from here */
  if (r->authorization[0] == '\0') {
    early_error(c, 401, "authentication required (HTTP Basic: curl -u user:password)",
                "WWW-Authenticate: Basic realm=\"iapd\", charset=\"UTF-8\"\r\n");
    return;
  }
  switch (http_auth_basic(&c->app->auth, r->authorization, now_ms, &wait_ms)) {
  case HTTP_LOGIN_OK:
    break;
  case HTTP_LOGIN_WRONG:
    log_warn("http", "failed Basic auth from %s", c->peer);
    early_error(c, 401, "wrong user or password",
                "WWW-Authenticate: Basic realm=\"iapd\", charset=\"UTF-8\"\r\n");
    return;
  case HTTP_LOGIN_THROTTLED: {
    unsigned s = (unsigned)((wait_ms + 999u) / 1000u);
    snprintf(msg, sizeof(msg), "too many failed logins: try again in %u s", s);
    snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", s);
    early_error(c, 429, msg, extra);
    return;
  }
  }
  if (!r->chunked && !r->has_content_length) {
    early_error(c, 411, "the upload needs a Content-Length or chunked transfer coding",
                NULL);
    return;
  }
  c->respond_after_body = true;
  if (!begin_upload(c, r->has_content_length ? r->content_length : 0, "raw"))
    return;
  send_continue(c);
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
      send_json_error(c, status_of(c->err.status), c->err.message, NULL);
    else
      send_error_page(c, status_of(c->err.status), c->err.message, NULL);
    return;
  }
  c->app->uploads_ok++;
  log_info("http", "upload from %s complete: %u bytes, CRC-32 0x%08x; reset to run it",
           c->peer, (unsigned)result.size, (unsigned)result.crc32);
  if (raw) {
    int n = snprintf(c->text, sizeof(c->text),
                     "{\"ok\":true,\"size\":%u,\"crc32\":\"0x%08x\",\"address\":\"0x%08x\"}\n",
                     (unsigned)result.size, (unsigned)result.crc32,
                     (unsigned)cfg->user_flash_base);
    put_head(c, 200, "application/json", (size_t)n, NULL);
    if (!head_only(c))
      out_add(c, c->text, (size_t)n, true);
    pump(c);
    return;
  }
  snprintf(text, sizeof(text), "%u bytes written at 0x%08x, CRC-32 0x%08x.",
           (unsigned)result.size, (unsigned)cfg->user_flash_base, (unsigned)result.crc32);
  send_page(c, 200, "/done.html", text, NULL);
}

/* --- routing ------------------------------------------------------------------------------ */

static void method_not_allowed(struct http_conn *c, const char *allow)
{
  char extra[64];
  snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
  send_error_page(c, 405, "method not allowed here", extra);
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
      login_page(c, 200, "", NULL);
    else
      method_not_allowed(c, "GET, HEAD");
  } else if (strcmp(path, "/checklogin.cgi") == 0) {
    if (!post) {
      method_not_allowed(c, "POST");
    } else if (r->has_content_length && r->content_length > HTTP_FORM_MAX) {
      early_error(c, 413, "login form too large", NULL);
    } else {
      c->handler = HTTP_H_LOGIN;
      c->respond_after_body = true;
      c->form_len = 0;
      send_continue(c);
    }
  } else if (strcmp(path, "/upload.html") == 0) {
    if (!get)
      method_not_allowed(c, "GET, HEAD");
    else if (has_session(c, now_ms))
      upload_page(c, NULL);
    else
      not_logged_in(c, false);
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
      send_json_error(c, 415, "POST /firmware takes Content-Type application/octet-stream",
                      NULL);
    else
      method_not_allowed(c, "PUT, POST");
  } else if (strcmp(path, "/resetmcu.cgi") == 0) {
    if (!post) {
      method_not_allowed(c, "POST");
    } else if (!has_session(c, now_ms)) {
      log_warn("http", "reset from %s refused: no session", c->peer);
      not_logged_in(c, false);
    } else {
      log_info("http", "reset requested by %s", c->peer);
      c->close_after = true;
      c->reset_after = c->app->cfg.request_reset != NULL;
      send_page(c, 200, "/reset.html", "Resetting the board.", NULL);
    }
  } else if (strcmp(path, "/logout.cgi") == 0) {
    if (!post) {
      method_not_allowed(c, "POST");
    } else {
      if (r->session[0] != '\0')
        http_auth_session_close(&c->app->auth, r->session);
      login_page(c, 200, "You are logged out.",
                 "Set-Cookie: " HTTP_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
                 "SameSite=Strict\r\n");
    }
  } else {
    const struct http_fs_file *f = http_fs_find(path);
    /* Pages with a marker are templates, served only through their routes. */
    if (f != NULL && f->marker < 0 && get)
      send_page(c, 200, path, NULL, NULL);
    else if (f != NULL && f->marker < 0)
      method_not_allowed(c, "GET, HEAD");
    else
      send_error_page(c, 404, "no such page", NULL);
  }

  if (c->phase != HTTP_PHASE_HEAD)
    return;  /* an early answer closed the connection */
  if (http_body_done(&c->body)) {
    if (c->handler == HTTP_H_LOGIN)
      login_done(c, now_ms);
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
    if (len > sizeof(c->form) - c->form_len) {
      early_error(c, 413, "login form too large", NULL);
      return;
    }
    memcpy(c->form + c->form_len, data, len);
    c->form_len += len;
    return;
  case HTTP_H_MULTIPART:
    if (multipart_feed(&c->mp, data, len) != MULTIPART_OK) {
      if (c->err.status != IAP_OK)
        upload_failed(c, status_of(c->err.status), c->err.message);
      else
        upload_failed(c, 400, multipart_error(&c->mp));
    }
    return;
  case HTTP_H_RAW:
    if (!write_upload(c, data, len))
      upload_failed(c, status_of(c->err.status), c->err.message);
    return;
  }
}

static void body_done(struct http_conn *c, uint32_t now_ms)
{
  switch (c->handler) {
  case HTTP_H_LOGIN:
    login_done(c, now_ms);
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
    answer_early(c);
    if (c->handler == HTTP_H_RAW)
      send_json_error(c, 400, why, NULL);
    else
      send_error_page(c, 400, why, NULL);
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
      if (out_pending(c))
        return i;  /* the last answer is still going out: the next request waits */
      i += http_request_feed(&c->parser, data + i, len - i);
      if (c->parser.state == RQ_FAILED) {
        log_warn("http", "bad request from %s: %d %s", c->peer, c->parser.status,
                 c->parser.error);
        c->close_after = true;
        send_error_page(c, c->parser.status, c->parser.error, NULL);
        c->phase = HTTP_PHASE_CLOSING;
        maybe_close(c);
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
  pump(c);
}

void http_conn_poll(struct http_conn *c, uint32_t now_ms)
{
  if (c->phase == HTTP_PHASE_CLOSED)
    return;
  if (out_pending(c))
    pump(c);
  if (c->phase == HTTP_PHASE_CLOSED || elapsed(now_ms, c->last_active_ms) < HTTP_IDLE_TIMEOUT_MS)
    return;
  if (c->uploading)
    abort_upload(c, "the client sent nothing for too long");
  else
    log_debug("http", "closing idle connection from %s", c->peer);
  c->out_count = c->out_next = 0;
  c->reset_after = false;
  c->phase = HTTP_PHASE_CLOSING;
  maybe_close(c);
}

void http_conn_closed(struct http_conn *c, const char *why)
{
  if (c->uploading)
    abort_upload(c, why);
  c->phase = HTTP_PHASE_CLOSED;
}
