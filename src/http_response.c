/* The answers of the HTTP server (see http_response.h). */
#include "http_response.h"

#include <string.h>

#include "crc32.h"
#include "http_core.h"
#include "http_fs.h"
#include "http_text.h"
#include "iap_format.h"
#include "json_escape.h"

#define MARKER_LEN (sizeof(HTTP_FS_MARKER) - 1)
#define GZIP_STORED_HEAD 5u   /* a stored deflate block's header: byte 0, LEN, NLEN */

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

/*
 * Every status the server sends with its reason phrase (RFC 7231 6.1; RFC 6585 4 and 5 for
 * 429 and 431), as one string of entries "NNN" phrase NUL, ended by an empty entry. One
 * string rather than an array of {status, pointer}: on the firmware that array would cost
 * 8 bytes per status on top of the phrases.
 */
static const char reasons[] =
  "100" "Continue\0"
  "200" "OK\0"
  "400" "Bad Request\0"
  "401" "Unauthorized\0"
  "403" "Forbidden\0"
  "404" "Not Found\0"
  "405" "Method Not Allowed\0"
  "408" "Request Timeout\0"
  "409" "Conflict\0"
  "411" "Length Required\0"
  "413" "Payload Too Large\0"
  "414" "URI Too Long\0"
  "415" "Unsupported Media Type\0"
  "417" "Expectation Failed\0"
  "422" "Unprocessable Entity\0"
  "429" "Too Many Requests\0"
  "431" "Request Header Fields Too Large\0"
  "500" "Internal Server Error\0"
  "501" "Not Implemented\0"
  "503" "Service Unavailable\0"
  "505" "HTTP Version Not Supported\0"
  "507" "Insufficient Storage\0";

const char *http_reason_phrase(int status)
{
  for (const char *p = reasons; *p != '\0'; p += strlen(p) + 1) {
    int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (code == status)
      return p + 3;
  }
  return "Error";
}

int http_status_of(enum iap_status s)
{
  switch (s) {
  case IAP_ERR_TOO_LARGE: return 413;
  case IAP_ERR_INVALID_IMAGE: return 422;
  case IAP_ERR_BUSY: return 409;
  /* The flash cannot store the image until iapd restarts (RFC 4918 11.5): not 503, whose
   * "try again later" would send scripts into a loop that cannot succeed. */
  case IAP_ERR_STORAGE: return 507;
  case IAP_OK: return 200;
  default: return 500;
  }
}

/* --- the queue ------------------------------------------------------------------------------ */

bool http_out_pending(const struct http_out *o)
{
  return o->next < o->count;
}

void http_out_add(struct http_out *o, const void *data, size_t len, bool copy)
{
  if (len == 0)
    return;
  if (!http_out_pending(o)) {
    o->count = 0;
    o->next = 0;
  }
  if (o->count < HTTP_OUT_SEGMENTS)
    o->seg[o->count++] = (struct http_out_segment){ data, len, copy };
}

void http_out_drop(struct http_out *o)
{
  o->count = 0;
  o->next = 0;
}

void http_out_close_if_sent(struct http_conn *c)
{
  if (c->phase == HTTP_PHASE_CLOSING && !http_out_pending(&c->out)) {
    c->phase = HTTP_PHASE_CLOSED;
    c->ops->close(c->ctx, c->reset_after);
  }
}

void http_out_pump(struct http_conn *c)
{
  struct http_out *o = &c->out;
  bool sent = false;
  while (http_out_pending(o)) {
    struct http_out_segment *s = &o->seg[o->next];
    size_t n = c->ops->send(c->ctx, s->data, s->len, s->copy);
    if (n == 0)
      break;
    sent = true;
    s->data += n;
    s->len -= n;
    if (s->len == 0)
      o->next++;
  }
  if (sent)
    c->ops->flush(c->ctx);
  http_out_close_if_sent(c);
}

/* --- answers -------------------------------------------------------------------------------- */

/* Status line and headers into c->out.head, queued. */
static void put_head(struct http_conn *c, int status, const char *content_type, bool gzip,
                     size_t body_len, const char *extra)
{
  const struct http_request *r = &c->parser.req;
  const char *connection = "";

  if (c->close_after)
    connection = "Connection: close\r\n";
  else if (r->version_minor == 0)
    connection = "Connection: keep-alive\r\n";
  int n = iap_snprintf(c->out.head, sizeof(c->out.head),
                   "HTTP/1.1 %d %s\r\n"
                   "Content-Type: %s\r\n"
                   "%s"
                   "Content-Length: %u\r\n"
                   "Cache-Control: no-store\r\n"
                   "X-Content-Type-Options: nosniff\r\n"
                   "X-Frame-Options: DENY\r\n"
                   "%s%s\r\n",
                   status, http_reason_phrase(status), content_type,
                   gzip ? "Content-Encoding: gzip\r\n" : "", (unsigned)body_len,
                   connection, extra ? extra : "");
  if (n < 0 || (size_t)n >= sizeof(c->out.head))
    n = 0;  /* cannot happen with the fixed texts above; send nothing rather than half */
  http_out_add(&c->out, c->out.head, (size_t)n, true);
}

static bool head_only(const struct http_conn *c)
{
  return c->parser.req.method == HTTP_METHOD_HEAD;
}

void http_send_text(struct http_conn *c, int status, const char *content_type, size_t len,
                    const char *extra)
{
  put_head(c, status, content_type, false, len, extra);
  if (!head_only(c))
    http_out_add(&c->out, c->out.text, len, true);
  http_out_pump(c);
}

static void put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* A gzip page with text at its marker (tools/mkfsdata.py --gzip): the first deflate piece
 * from ROM, the text as a stored block (RFC 1951 3.2.4: a byte 0 on the byte boundary the
 * piece ends on, LEN and NLEN little-endian, the bytes), the second piece from ROM, then the
 * trailer (RFC 1952: CRC-32 and length of the whole page). CRC-32 is linear: the CRC of the
 * page is the CRC of the text before (kept in ROM) carried through the text, then through
 * as many zero bytes as follow the marker, XORed with what those bytes leave from 0. */
static void send_gzip_page(struct http_conn *c, int status, const struct http_fs_file *f,
                           const char *text, const char *extra)
{
  static const uint8_t zero;
  uint8_t *block = (uint8_t *)c->out.text;
  size_t text_len = http_html_escape(text, c->out.text + GZIP_STORED_HEAD,
                                     sizeof(c->out.text) - GZIP_STORED_HEAD);
  size_t first = (size_t)f->marker, second = f->len - first;

  block[0] = 0;   /* BFINAL 0, BTYPE 00 (stored) */
  block[1] = (uint8_t)text_len;
  block[2] = (uint8_t)(text_len >> 8);
  block[3] = (uint8_t)~block[1];
  block[4] = (uint8_t)~block[2];
  uint32_t crc = crc32_update(f->crc_before, c->out.text + GZIP_STORED_HEAD, text_len);
  for (uint32_t i = 0; i < f->after_len; i++)
    crc = crc32_update(crc, &zero, 1);
  put_le32(c->out.gzip_trailer, crc ^ f->crc_after);
  put_le32(c->out.gzip_trailer + 4, (uint32_t)(f->plain_len + text_len));
  put_head(c, status, f->content_type, true,
           first + GZIP_STORED_HEAD + text_len + second + sizeof(c->out.gzip_trailer), extra);
  if (!head_only(c)) {
    http_out_add(&c->out, f->data, first, false);
    http_out_add(&c->out, block, GZIP_STORED_HEAD + text_len, true);
    http_out_add(&c->out, f->data + first, second, false);
    http_out_add(&c->out, c->out.gzip_trailer, sizeof(c->out.gzip_trailer), true);
  }
}

void http_send_page(struct http_conn *c, int status, const char *path, const char *text,
                    const char *extra)
{
  const struct http_fs_file *f = http_fs_find(path);

  if (text == NULL)
    text = "";
  if (f == NULL) {
    /* The build always has the pages; a missing one is a build bug. Say so plainly. */
    size_t text_len = (size_t)iap_snprintf(c->out.text, sizeof(c->out.text),
                                           "%d %s (page %s missing)\n", status,
                                           http_reason_phrase(status), path);
    http_send_text(c, status, "text/plain; charset=utf-8", text_len, extra);
    return;
  }
  if (f->marker < 0) {
    put_head(c, status, f->content_type, f->gzip, f->len, extra);
    if (!head_only(c))
      http_out_add(&c->out, f->data, f->len, false);
  } else if (f->gzip) {
    send_gzip_page(c, status, f, text, extra);
  } else {
    size_t text_len = http_html_escape(text, c->out.text, sizeof(c->out.text));
    size_t before = (size_t)f->marker;
    size_t after = f->len - before - MARKER_LEN;
    put_head(c, status, f->content_type, false, before + text_len + after, extra);
    if (!head_only(c)) {
      http_out_add(&c->out, f->data, before, false);
      http_out_add(&c->out, c->out.text, text_len, true);
      http_out_add(&c->out, f->data + before + MARKER_LEN, after, false);
    }
  }
  http_out_pump(c);
}

void http_send_error_page(struct http_conn *c, int status, const char *message,
                          const char *extra)
{
  char text[HTTP_PAGE_TEXT_MAX];
  iap_snprintf(text, sizeof(text), "%d %s: %s", status, http_reason_phrase(status), message);
  http_send_page(c, status, "/error.html", text, extra);
}

void http_send_json_error(struct http_conn *c, int status, const char *message,
                          const char *extra)
{
  char escaped[HTTP_PAGE_TEXT_MAX - 64];
  json_escape_string(message, escaped, sizeof(escaped));
  int n = iap_snprintf(c->out.text, sizeof(c->out.text),
                   "{\"ok\":false,\"status\":%d,\"error\":\"%s\"}\n", status, escaped);
  if (n < 0 || (size_t)n >= sizeof(c->out.text))
    n = (int)strlen(c->out.text);
  http_send_text(c, status, "application/json", (size_t)n, extra);
}

void http_send_error(struct http_conn *c, int status, const char *message, const char *extra)
{
  if (c->handler == HTTP_H_RAW)
    http_send_json_error(c, status, message, extra);
  else
    http_send_error_page(c, status, message, extra);
}

void http_send_continue(struct http_conn *c)
{
  if (c->parser.req.expect_continue && !http_body_done(&c->body)) {
    http_out_add(&c->out, continue_line, sizeof(continue_line) - 1, false);
    http_out_pump(c);
    c->parser.req.expect_continue = false;  /* answered: the body comes */
  }
}
