/* Uploads over HTTP into the image sink (see http_upload.h). */
#include "http_upload.h"

#include <string.h>

#include "http_core.h"
#include "http_login.h"
#include "http_response.h"
#include "http_text.h"
#include "iap_format.h"
#include "log.h"

/* The smallest multipart body carrying a file of N bytes is N plus this plus twice the
 * boundary: "--B\r\n" "Content-Disposition:form-data;name=datafile\r\n" "\r\n" ... "\r\n--B--"
 * (RFC 7578). A real client's part headers are longer (a file name, a Content-Type): up to
 * MULTIPART_HEADER_SLACK more is let through to the exact check at the file's first byte
 * (mp_part_begin); a Content-Length beyond both cannot carry a file that fits. */
#define MULTIPART_MIN_OVERHEAD (4u + 45u + 2u + 6u)
#define MULTIPART_HEADER_SLACK 512u

/* The handler takes the body. Its state shares a union with the login form's: until the sink
 * is begun, the upload must not look active, whatever bytes the form left there. */
static void upload_enter(struct http_conn *c, enum http_handler handler)
{
  c->handler = handler;
  c->upload.active = false;
}

bool http_upload_active(const struct http_conn *c)
{
  return (c->handler == HTTP_H_MULTIPART || c->handler == HTTP_H_RAW) && c->upload.active;
}

void http_upload_abort(struct http_conn *c, const char *why)
{
  if (!http_upload_active(c))
    return;
  c->upload.active = false;
  c->app->cfg.sink->abort(c->app->cfg.sink_ctx, why);
  c->app->uploads_failed++;
  log_warn("http", "upload from %s failed after %u bytes: %s", c->peer,
           (unsigned)c->upload.bytes, why);
}

static bool begin(struct http_conn *c, uint32_t expected, const char *what)
{
  const struct http_request *r = &c->parser.req;
  struct http_upload_state *u = &c->upload;
  enum iap_status st = c->app->cfg.sink->begin(c->app->cfg.sink_ctx, "HTTP", c->peer,
                                               expected, &u->err);
  if (st != IAP_OK) {
    log_warn("http", "upload from %s refused: %s", c->peer, u->err.message);
    http_conn_early_error(c, http_status_of(st), u->err.message, NULL);
    return false;
  }
  u->active = true;
  u->bytes = 0;
  if (r->chunked)
    log_info("http", "upload from %s started (%s, chunked)", c->peer, what);
  else
    log_info("http", "upload from %s started (%s, %u bytes)", c->peer, what,
             (unsigned)r->content_length);
  return true;
}

static bool write_sink(struct http_conn *c, const uint8_t *data, size_t len)
{
  struct http_upload_state *u = &c->upload;
  if (c->app->cfg.sink->write(c->app->cfg.sink_ctx, data, len, &u->err) != IAP_OK)
    return false;
  u->bytes += (uint32_t)len;
  return true;
}

/* The upload cannot go on: answer with the reason, drop the rest of the body. */
static void fail(struct http_conn *c, int status, const char *message)
{
  http_upload_abort(c, message);
  http_conn_early_error(c, status, message, NULL);
}

/* Neither a length nor chunks: the end of the body would be the end of the connection, which
 * cannot be told from a connection that broke (RFC 7230 3.3.3). */
static bool has_framing(struct http_conn *c)
{
  const struct http_request *r = &c->parser.req;
  if (r->chunked || r->has_content_length)
    return true;
  http_conn_early_error(c, 411, "the upload needs a Content-Length or chunked transfer coding",
                        NULL);
  return false;
}

/* --- the form ------------------------------------------------------------------------------- */

static bool mp_part_begin(void *ctx, const char *name, bool is_file)
{
  struct http_conn *c = ctx;
  struct http_upload_state *u = &c->upload;
  (void)is_file;
  if (strcmp(name, "datafile") != 0)
    return true;  /* other fields are read past */
  if (u->datafile_seen) {
    u->err.status = IAP_ERR_INVALID_IMAGE;
    iap_snprintf(u->err.message, sizeof(u->err.message), "the form holds two datafile fields");
    return false;
  }
  u->datafile_seen = true;
  u->in_datafile = true;
  /* Now the size is known, give or take what follows the file: the body's length less what
   * came before the file's first byte, the closing delimiter "\r\n--B--" and the CRLF that
   * browsers and curl send after it. A file larger than the user flash is refused here,
   * before its first byte is written and anything erased. (The check on Content-Length
   * alone, when the headers arrive, cannot tell a file one byte too large from one that fits
   * under a longer file name.) */
  const struct http_request *r = &c->parser.req;
  const struct http_server_config *cfg = &c->app->cfg;
  uint32_t framing = multipart_consumed(&u->mp) + (uint32_t)u->mp.delim_len + 2u + 2u;
  if (r->has_content_length && r->content_length > framing
      && r->content_length - framing > cfg->user_flash_size) {
    u->err.status = IAP_ERR_TOO_LARGE;
    iap_snprintf(u->err.message, sizeof(u->err.message),
                 "image too large: the request is %u bytes, the user flash 0x%08x-0x%08x "
                 "holds %u bytes", (unsigned)r->content_length, (unsigned)cfg->user_flash_base,
                 (unsigned)(cfg->user_flash_base + cfg->user_flash_size - 1u),
                 (unsigned)cfg->user_flash_size);
    return false;
  }
  return true;
}

static bool mp_part_data(void *ctx, const uint8_t *data, size_t len)
{
  struct http_conn *c = ctx;
  return !c->upload.in_datafile || write_sink(c, data, len);
}

static bool mp_part_end(void *ctx)
{
  struct http_conn *c = ctx;
  c->upload.in_datafile = false;
  return true;
}

static const struct multipart_callbacks mp_callbacks = {
  .part_begin = mp_part_begin,
  .part_data = mp_part_data,
  .part_end = mp_part_end,
};

void http_upload_form(struct http_conn *c, uint32_t now_ms)
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
    http_conn_early_error(c, 415, "expected Content-Type multipart/form-data with a boundary",
                          NULL);
    return;
  }
  if (!has_framing(c))
    return;
  size_t blen = strlen(boundary);
  if (r->has_content_length
      && r->content_length > cfg->user_flash_size + MULTIPART_MIN_OVERHEAD + 2u * blen
                             + MULTIPART_HEADER_SLACK) {
    iap_snprintf(msg, sizeof(msg),
             "image too large: the request is %u bytes, the user flash 0x%08x-0x%08x holds "
             "%u bytes", (unsigned)r->content_length, (unsigned)cfg->user_flash_base,
             (unsigned)(cfg->user_flash_base + cfg->user_flash_size - 1u),
             (unsigned)cfg->user_flash_size);
    log_warn("http", "upload from %s refused: %s", c->peer, msg);
    http_conn_early_error(c, 413, msg, NULL);
    return;
  }
  struct http_upload_state *u = &c->upload;
  upload_enter(c, HTTP_H_MULTIPART);
  u->datafile_seen = false;
  u->in_datafile = false;
  u->err.status = IAP_OK;  /* a callback's refusal is told from the form's by this */
  u->err.message[0] = '\0';
  multipart_init(&u->mp, boundary, blen, &mp_callbacks, c);
  if (!begin(c, 0, "form"))
    return;
  http_send_continue(c);
}

/* --- the raw image -------------------------------------------------------------------------- */

void http_upload_raw(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;

  if (r->method == HTTP_METHOD_POST
      && !http_prefix_ci(r->content_type, "application/octet-stream")) {
    http_send_json_error(c, 415, "POST /firmware takes Content-Type application/octet-stream",
                         NULL);
    return;
  }
  upload_enter(c, HTTP_H_RAW);  /* answers are JSON from here */
  if (!http_login_basic(c, now_ms))
    return;
  if (!has_framing(c))
    return;
  if (!begin(c, r->has_content_length ? r->content_length : 0, "raw"))
    return;
  http_send_continue(c);
}

/* --- the body ------------------------------------------------------------------------------- */

void http_upload_body(struct http_conn *c, const uint8_t *data, size_t len)
{
  struct http_upload_state *u = &c->upload;
  if (c->handler == HTTP_H_RAW) {
    if (!write_sink(c, data, len))
      fail(c, http_status_of(u->err.status), u->err.message);
    return;
  }
  if (multipart_feed(&u->mp, data, len) != MULTIPART_OK) {
    /* a callback stopped the parser with the sink's reason, or the form itself is wrong */
    if (u->err.status != IAP_OK) {
      fail(c, http_status_of(u->err.status), u->err.message);
    } else if (u->mp.status == MULTIPART_ERR_ENCODING) {
      iap_snprintf(u->err.message, sizeof(u->err.message), "a part is sent with "
                   "Content-Transfer-Encoding: %s, which the board does not decode (RFC 7578 4.7): "
                   "send the file's bytes as they are", u->mp.encoding);
      fail(c, 415, u->err.message);
    } else {
      fail(c, 400, multipart_error(&u->mp));
    }
  }
}

void http_upload_done(struct http_conn *c)
{
  const struct http_server_config *cfg = &c->app->cfg;
  struct http_upload_state *u = &c->upload;
  struct iap_result result;
  char text[HTTP_PAGE_TEXT_MAX];
  bool raw = c->handler == HTTP_H_RAW;

  if (!raw) {
    if (multipart_finish(&u->mp) != MULTIPART_OK) {
      fail(c, 400, multipart_error(&u->mp));
      return;
    }
    if (!u->datafile_seen) {
      fail(c, 400, "the form has no file field named datafile");
      return;
    }
  }
  u->active = false;
  if (cfg->sink->finish(cfg->sink_ctx, &result, &u->err) != IAP_OK) {
    c->app->uploads_failed++;
    log_warn("http", "upload from %s failed: %s", c->peer, u->err.message);
    c->close_after = true;
    http_send_error(c, http_status_of(u->err.status), u->err.message, NULL);
    return;
  }
  c->app->uploads_ok++;
  log_info("http", "upload from %s complete: %u bytes, CRC-32 0x%08x; reset to run it",
           c->peer, (unsigned)result.size, (unsigned)result.crc32);
  if (raw) {
    int n = iap_snprintf(c->out.text, sizeof(c->out.text),
                     "{\"ok\":true,\"size\":%u,\"crc32\":\"0x%08x\",\"address\":\"0x%08x\"}\n",
                     (unsigned)result.size, (unsigned)result.crc32,
                     (unsigned)cfg->user_flash_base);
    http_send_text(c, 200, "application/json", (size_t)n, NULL);
    return;
  }
  iap_snprintf(text, sizeof(text), "%u bytes written at 0x%08x, CRC-32 0x%08x.",
           (unsigned)result.size, (unsigned)cfg->user_flash_base, (unsigned)result.crc32);
  http_send_page(c, 200, "/done.html", text, NULL);
}
