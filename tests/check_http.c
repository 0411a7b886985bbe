/*
 * The HTTP IAP server's protocol core (src/http_core.c) driven without a network: requests in,
 * exact responses out, uploads through the real flash writer into the emulated chip. Covers
 * the login and session rules, the upload page flow of AN3376 section 4, the script endpoint,
 * 100-continue, 413 before erasing, refused images, broken and dropped uploads, the reset
 * seam, keep-alive and the timeouts.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "gzip_page.h"
#include "http_core.h"
#include "http_fs.h"
#include "iap_writer.h"
#include "testlib.h"

static struct tl_flash flash;
static struct iap_writer writer;
static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };
static struct http_app app;
static struct http_conn conn;
static uint32_t now_ms;
static unsigned resets;

/* What the core sent and did. */
static struct {
  char *out;
  size_t len;
  size_t cap;
  size_t room;        /* bytes send() takes per call; 0: all */
  bool closed;
  bool close_reset;
  unsigned closes;
} io;

static size_t fake_send(void *ctx, const void *data, size_t len, bool copy)
{
  (void)ctx;
  (void)copy;
  if (io.room && len > io.room)
    len = io.room;
  if (io.len + len + 1 > io.cap) {
    io.cap = (io.len + len + 1) * 2;
    io.out = realloc(io.out, io.cap);
  }
  memcpy(io.out + io.len, data, len);
  io.len += len;
  io.out[io.len] = '\0';
  return len;
}

static void fake_flush(void *ctx)
{
  (void)ctx;
}

static void fake_close(void *ctx, bool reset)
{
  (void)ctx;
  io.closed = true;
  io.close_reset = reset;
  io.closes++;
}

static const struct http_conn_ops fake_ops = { fake_send, fake_flush, fake_close };

static void on_reset(void *ctx)
{
  (void)ctx;
  resets++;
}

static void new_conn(void)
{
  free(io.out);
  memset(&io, 0, sizeof(io));
  http_conn_init(&conn, &app, &fake_ops, NULL, "192.0.2.7:40000", now_ms);
}

static void setup(void)
{
  struct http_server_config cfg = {
    .sink = &iap_writer_sink_ops,
    .sink_ctx = &writer,
    .board = &tl_board,
    .user = "user",
    .password = "stm32",
    .session_timeout_ms = 60000,
    .user_flash_base = TL_USER_BASE,
    .user_flash_size = TL_USER_CAPACITY,
    .request_reset = on_reset,
  };
  tl_flash_open(&flash);
  iap_writer_init(&writer, &user_area, flash.dev);
  now_ms = 1000;
  resets = 0;
  http_app_init(&app, &cfg);
  new_conn();
}

static void teardown(void)
{
  ck_assert(!iap_writer_busy(&writer) || http_conn_uploading(&conn));
  tl_flash_close(&flash);
  free(io.out);
  memset(&io, 0, sizeof(io));
}

/* Feeds data in pieces of at most `piece` bytes (0: whole), as TCP would, pumping output
 * whenever the core waits for it. */
static void send_bytes(const void *data, size_t len, size_t piece)
{
  const uint8_t *p = data;
  size_t at = 0;
  int stalls = 0;
  while (at < len && !io.closed) {
    size_t n = piece && len - at > piece ? piece : len - at;
    size_t used = http_conn_input(&conn, p + at, n, now_ms);
    at += used;
    if (used < n) {
      http_conn_on_sent(&conn, now_ms);
      ck_assert_int_lt(++stalls, 100000);
    }
  }
}

static void send_text(const char *text)
{
  send_bytes(text, strlen(text), 0);
}

/* --- reading responses ----------------------------------------------------------------------- */

struct response {
  int status;
  char head[1024];
  const char *body;     /* into io.out; a gzip body decoded (gzip_page.h) */
  size_t body_len;
  size_t wire_len;      /* the body's bytes as sent: its Content-Length */
};

/* The n-th (0-based) final response in the output; 100 Continue lines are skipped. */
static struct response response_at(unsigned n)
{
  struct response r;
  const char *p = io.out ? io.out : "";
  unsigned seen = 0;
  for (;;) {
    ck_assert_msg(strncmp(p, "HTTP/1.1 ", 9) == 0, "no response %u in: %.200s", n, p);
    const char *end = strstr(p, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    r.status = atoi(p + 9);
    size_t hlen = (size_t)(end - p) + 4;
    ck_assert_uint_lt(hlen, sizeof(r.head));
    memcpy(r.head, p, hlen);
    r.head[hlen] = '\0';
    if (r.status == 100) {
      ck_assert_str_eq(r.head, "HTTP/1.1 100 Continue\r\n\r\n");
      p = end + 4;
      continue;
    }
    const char *cl = strstr(r.head, "\r\nContent-Length: ");
    ck_assert_ptr_nonnull(cl);
    r.body_len = (size_t)atol(cl + 18);
    r.wire_len = r.body_len;
    r.body = end + 4;
    ck_assert_uint_le((size_t)(r.body - io.out) + r.body_len, io.len);
    if (seen++ == n) {
      if (strstr(r.head, "\r\nContent-Encoding: gzip\r\n") != NULL)
        r.body = test_gunzip(r.body, r.wire_len, &r.body_len);
      return r;
    }
    p = r.body + r.body_len;
  }
}

static struct response last_response(void)
{
  /* walked head by head, bodies skipped by their Content-Length: a gzip body holds NULs */
  unsigned n = 0;
  const char *p = io.out;
  ck_assert_ptr_nonnull(p);
  while ((size_t)(p - io.out) < io.len) {
    ck_assert_msg(strncmp(p, "HTTP/1.1 ", 9) == 0, "no response at: %.200s", p);
    const char *end = strstr(p, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    if (strncmp(p + 9, "100", 3) == 0) {
      p = end + 4;
      continue;
    }
    const char *cl = strstr(p, "\r\nContent-Length: ");
    ck_assert_msg(cl != NULL && cl < end, "a response without Content-Length");
    p = end + 4 + atol(cl + 18);
    n++;
  }
  ck_assert_uint_gt(n, 0);
  return response_at(n - 1);
}

static bool body_has(const struct response *r, const char *text)
{
  char *copy = strndup(r->body, r->body_len);
  bool found = strstr(copy, text) != NULL;
  free(copy);
  return found;
}

/* The page file with text where its marker is, as the server must send it (decoded). */
static char *expected_page(const char *path, const char *text)
{
  return test_page_with_text(path, text);
}

static void assert_page(const struct response *r, const char *path, const char *text)
{
  char *page = expected_page(path, text);
  ck_assert_msg(strstr(r->head, "\r\nContent-Encoding: gzip\r\n") != NULL,
                "%s is not sent gzip", path);
  ck_assert_uint_eq(r->body_len, strlen(page));
  ck_assert_msg(memcmp(r->body, page, r->body_len) == 0, "body is not %s with \"%s\"", path,
                text);
  free(page);
}

/* --- helpers for the flows ---------------------------------------------------------------- */

static char token[64];

static void login_ok(void)
{
  static const char body[] = "username=user&password=stm32";
  char req[512];
  snprintf(req, sizeof(req), "POST /checklogin.cgi HTTP/1.1\r\nHost: 192.168.0.10\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
           strlen(body), body);
  new_conn();
  send_text(req);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 200);
  const char *c = strstr(r.head, "\r\nSet-Cookie: iapd_session=");
  ck_assert_ptr_nonnull(c);
  c += strlen("\r\nSet-Cookie: iapd_session=");
  ck_assert_uint_eq(strspn(c, "0123456789abcdef"), 32);
  memcpy(token, c, 32);
  token[32] = '\0';
  ck_assert(strncmp(c + 32, "; Path=/; HttpOnly; SameSite=Strict\r\n", 37) == 0);
}

struct body {
  uint8_t *p;
  size_t len;
};

static struct body form_body(const char *boundary, const uint8_t *img, size_t n, bool close)
{
  struct body b;
  char head[300];
  int hl = snprintf(head, sizeof(head),
                    "--%s\r\nContent-Disposition: form-data; name=\"datafile\"; "
                    "filename=\"app.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    boundary);
  char tail[100];
  int tl = close ? snprintf(tail, sizeof(tail), "\r\n--%s--\r\n", boundary) : 0;
  b.len = (size_t)hl + n + (size_t)tl;
  b.p = malloc(b.len);
  memcpy(b.p, head, (size_t)hl);
  memcpy(b.p + hl, img, n);
  memcpy(b.p + hl + n, tail, (size_t)tl);
  return b;
}

/* Sends a POST /upload.cgi with the session cookie (if any) and the body in TCP-like pieces. */
static void post_upload(const char *cookie, const struct body *b, uint32_t content_length,
                        bool expect, size_t piece)
{
  char head[600];
  snprintf(head, sizeof(head),
           "POST /upload.cgi HTTP/1.1\r\nHost: 192.168.0.10\r\n"
           "Content-Type: multipart/form-data; boundary=----WebKitFormBoundaryQ1\r\n"
           "Content-Length: %u\r\n%s%s%s%s\r\n",
           (unsigned)content_length, expect ? "Expect: 100-continue\r\n" : "",
           cookie ? "Cookie: iapd_session=" : "", cookie ? cookie : "", cookie ? "\r\n" : "");
  send_text(head);
  if (b && !io.closed)
    send_bytes(b->p, b->len, piece);
}

static void assert_flash_holds(const uint8_t *img, size_t n)
{
  ck_assert(memcmp(tl_flash_at(&flash, TL_USER_BASE), img, n) == 0);
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE + (uint32_t)n, 0x100));
}

static void assert_flash_untouched(void)
{
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, TL_USER_CAPACITY));
  ck_assert_uint_eq(tl_total_erases(&flash), 0);
}

/* --- tests --------------------------------------------------------------------------------- */

START_TEST(test_login_page_exact)
{
  send_text("GET / HTTP/1.1\r\nHost: 192.168.0.10\r\n\r\n");
  struct response r = response_at(0);
  char *page = expected_page("/login.html", "");
  char head[512];
  snprintf(head, sizeof(head),
           "HTTP/1.1 200 OK\r\n"
           "Content-Type: text/html; charset=utf-8\r\n"
           "Content-Encoding: gzip\r\n"
           "Content-Length: %zu\r\n"
           "Cache-Control: no-store\r\n"
           "X-Content-Type-Options: nosniff\r\n"
           "X-Frame-Options: DENY\r\n"
           "\r\n", r.wire_len);
  ck_assert_uint_eq(r.body_len, strlen(page));
  ck_assert_str_eq(r.head, head);
  assert_page(&r, "/login.html", "");
  ck_assert(body_has(&r, "<form action=\"/checklogin.cgi\" method=\"post\">"));
  ck_assert(body_has(&r, "name=\"username\""));
  ck_assert(body_has(&r, "name=\"password\""));
  ck_assert(!io.closed);  /* keep-alive */
  free(page);

  /* the stylesheet, 404, 405, HEAD */
  send_text("GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
  r = response_at(1);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.head, "Content-Type: text/css; charset=utf-8\r\n"));
  assert_page(&r, "/style.css", "");
  send_text("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
  r = response_at(2);
  ck_assert_int_eq(r.status, 404);
  send_text("GET /done.html HTTP/1.1\r\nHost: x\r\n\r\n");  /* templates are not files */
  ck_assert_int_eq(response_at(3).status, 404);
  send_text("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
  r = response_at(4);
  ck_assert_int_eq(r.status, 405);
  ck_assert_ptr_nonnull(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"));
  new_conn();
  send_text("HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
  static const char css_head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/css; charset=utf-8\r\n";
  ck_assert(strncmp(io.out, css_head, strlen(css_head)) == 0);
  ck_assert(strcmp(io.out + io.len - 4, "\r\n\r\n") == 0);  /* no body after HEAD */
}
END_TEST

START_TEST(test_login_and_session)
{
  login_ok();
  struct response r = last_response();
  char limit[160];
  snprintf(limit, sizeof(limit), "Images up to %u bytes (%u KiB) fit the user flash at 0x%08x.",
           TL_USER_CAPACITY, TL_USER_CAPACITY / 1024, TL_USER_BASE);
  assert_page(&r, "/upload.html", limit);
  ck_assert(body_has(&r, "enctype=\"multipart/form-data\""));
  ck_assert(body_has(&r, "name=\"datafile\""));
  ck_assert_uint_eq(http_auth_session_count(&app.auth, now_ms), 1);

  /* the session opens the upload page; no or another cookie does not */
  char req[256];
  snprintf(req, sizeof(req),
           "GET /upload.html HTTP/1.1\r\nHost: x\r\nCookie: iapd_session=%s\r\n\r\n", token);
  new_conn();
  send_text(req);
  ck_assert_int_eq(last_response().status, 200);
  new_conn();
  send_text("GET /upload.html HTTP/1.1\r\nHost: x\r\n\r\n");
  r = last_response();
  ck_assert_int_eq(r.status, 403);
  assert_page(&r, "/login.html", "Please log in first (no session, or it expired).");
  new_conn();
  send_text("GET /upload.html HTTP/1.1\r\nHost: x\r\n"
            "Cookie: iapd_session=00000000000000000000000000000000\r\n\r\n");
  ck_assert_int_eq(last_response().status, 403);

  /* expiry: idle for the timeout ends the session */
  now_ms += 59999;
  new_conn();
  send_text(req);
  ck_assert_int_eq(last_response().status, 200);  /* used: the idle time starts again */
  now_ms += 60000;
  new_conn();
  send_text(req);
  ck_assert_int_eq(last_response().status, 403);

  /* logout */
  login_ok();
  snprintf(req, sizeof(req), "POST /logout.cgi HTTP/1.1\r\nHost: x\r\nCookie: iapd_session=%s\r\n"
           "Content-Length: 0\r\n\r\n", token);
  new_conn();
  send_text(req);
  r = last_response();
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.head, "Set-Cookie: iapd_session=; Path=/; Max-Age=0;"));
  assert_page(&r, "/login.html", "You are logged out.");
  ck_assert_uint_eq(http_auth_session_count(&app.auth, now_ms), 0);
}
END_TEST

static void post_login(const char *body)
{
  char req[512];
  snprintf(req, sizeof(req), "POST /checklogin.cgi HTTP/1.1\r\nHost: x\r\n"
           "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
  new_conn();
  send_text(req);
}

START_TEST(test_wrong_logins_and_throttle)
{
  static const char *const wrong[] = {
    "username=user&password=stm3", "username=user&password=stm322", "username=User&password=stm32",
    "password=stm32", "username=user", "",
  };
  for (size_t i = 0; i < 2; i++) {
    post_login(wrong[i]);
    struct response r = last_response();
    ck_assert_int_eq(r.status, 403);
    ck_assert_ptr_null(strstr(r.head, "Set-Cookie"));
    assert_page(&r, "/login.html", "Wrong user ID or password.");
    now_ms += 10;
  }
  post_login(wrong[2]);  /* the third failure: from now on, wait 1 s, then 2 s, ... */
  ck_assert_int_eq(last_response().status, 403);
  post_login("username=user&password=stm32");  /* even the right one waits */
  struct response r = last_response();
  ck_assert_int_eq(r.status, 429);
  ck_assert_ptr_nonnull(strstr(r.head, "\r\nRetry-After: 1\r\n"));
  assert_page(&r, "/login.html", "Too many failed logins: try again in 1 s.");
  now_ms += 1000;
  post_login(wrong[3]);  /* checked again, wrong: 2 s */
  ck_assert_int_eq(last_response().status, 403);
  now_ms += 1500;
  post_login("username=user&password=stm32");
  ck_assert_int_eq(last_response().status, 429);
  now_ms += 500;
  post_login("username=user&password=stm32");
  ck_assert_int_eq(last_response().status, 200);  /* and the count starts again */
  for (size_t i = 3; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
    post_login(wrong[i]);
    ck_assert_int_eq(last_response().status, 403);
  }
  post_login(wrong[0]);
  ck_assert_int_eq(last_response().status, 429);
  /* urlencoding: '+' and %XX */
  now_ms += 60000;
  http_auth_init(&app.auth, &tl_board, "a user", "p&ss=%", 60000);
  post_login("username=a+user&password=p%26ss%3D%25");
  ck_assert_int_eq(last_response().status, 200);
}
END_TEST

START_TEST(test_upload_form_flow)
{
  size_t n = 70001;
  uint8_t *img = tl_app(n, 11);
  /* "\r\n--" and the boundary's start inside the image */
  memcpy(img + 5000, "\r\n------WebKitFormBoundaryQ", 27);
  memcpy(img + 9000, "\r\n--", 4);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, n, true);

  login_ok();
  new_conn();
  post_upload(token, &b, (uint32_t)b.len, false, 1460);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 200);
  char text[160];
  snprintf(text, sizeof(text), "%zu bytes written at 0x%08x, CRC-32 0x%08x.", n, TL_USER_BASE,
           crc32_update(0, img, n));
  assert_page(&r, "/done.html", text);
  ck_assert(body_has(&r, "<form action=\"/resetmcu.cgi\" method=\"post\">"));
  ck_assert(body_has(&r, "RESET MCU"));
  assert_flash_holds(img, n);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert(!io.closed);
  ck_assert_uint_eq(app.uploads_ok, 1);

  /* RESET MCU: the page, then close with reset; the callback is the glue's to call */
  char req[256];
  snprintf(req, sizeof(req), "POST /resetmcu.cgi HTTP/1.1\r\nHost: x\r\nCookie: iapd_session=%s\r\n"
           "Content-Length: 0\r\n\r\n", token);
  new_conn();
  send_text(req);
  r = last_response();
  ck_assert_int_eq(r.status, 200);
  assert_page(&r, "/reset.html", "Resetting the board.");
  ck_assert_ptr_nonnull(strstr(r.head, "Connection: close\r\n"));
  ck_assert(io.closed);
  ck_assert(io.close_reset);
  ck_assert_uint_eq(io.closes, 1);

  /* without a session: no reset */
  new_conn();
  send_text("POST /resetmcu.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  ck_assert_int_eq(last_response().status, 403);
  ck_assert(!io.close_reset);
  free(b.p);
  free(img);
}
END_TEST

START_TEST(test_upload_segmentations)
{
  /* The same upload through the core in many TCP segmentations, a small send window too. */
  size_t n = 3001;
  uint8_t *img = tl_app(n, 12);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, n, true);
  uint32_t rng = 5;
  login_ok();
  for (int round = 0; round < 40; round++) {
    memset(flash.mem + (TL_USER_BASE - STM32_FLASH_BASE), 0xFF, 0x10000);
    new_conn();
    io.room = round % 3 == 0 ? 7 : 0;
    post_upload(token, &b, (uint32_t)b.len, round % 2 == 0, 1 + tl_rand(&rng) % 700);
    ck_assert_int_eq(last_response().status, 200);
    assert_flash_holds(img, n);
  }
  free(b.p);
  free(img);
}
END_TEST

START_TEST(test_upload_without_session)
{
  uint8_t *img = tl_app(2000, 13);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, 2000, true);
  post_upload(NULL, &b, (uint32_t)b.len, false, 500);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 403);
  assert_page(&r, "/login.html", "Please log in first (no session, or it expired).");
  ck_assert(io.closed);  /* after the body was read and dropped */
  assert_flash_untouched();
  /* with 100-continue: answered at once, no 100, closed */
  new_conn();
  post_upload("0123456789abcdef0123456789abcdef", NULL, (uint32_t)b.len, true, 0);
  ck_assert_int_eq(last_response().status, 403);
  ck_assert_ptr_null(strstr(io.out, "100 Continue"));
  ck_assert(io.closed);
  assert_flash_untouched();
  free(b.p);
  free(img);
}
END_TEST

START_TEST(test_upload_too_large)
{
  login_ok();
  new_conn();
  post_upload(token, NULL, TL_USER_CAPACITY + 1000u, true, 0);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 413);
  char text[300];
  snprintf(text, sizeof(text), "413 Payload Too Large: image too large: the request is %u bytes, "
           "the user flash 0x%08x-0x%08x holds %u bytes", TL_USER_CAPACITY + 1000u, TL_USER_BASE,
           TL_USER_BASE + TL_USER_CAPACITY - 1, TL_USER_CAPACITY);
  assert_page(&r, "/error.html", text);
  ck_assert_ptr_null(strstr(io.out, "100 Continue"));
  ck_assert(io.closed);
  assert_flash_untouched();
  ck_assert(!iap_writer_busy(&writer));

  /* a body that fits the limit on Content-Length but whose file does not: 413 at the first
   * byte past the user area, and nothing bootable */
  size_t n = TL_USER_CAPACITY + 4;
  uint8_t *img = tl_app(n, 14);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, n, true);
  new_conn();
  post_upload(token, &b, (uint32_t)b.len, false, 1460);
  r = last_response();
  ck_assert_int_eq(r.status, 413);
  ck_assert(body_has(&r, "holds 982912 bytes"));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert(!iap_writer_busy(&writer));
  free(b.p);
  free(img);
}
END_TEST

/* A browser's form for an image that fills the user flash: the part headers (file name,
 * Content-Type) make the body 199 bytes longer than the image with Chromium's boundary,
 * more than the smallest framing. It is taken, to the last byte; one byte more is refused at
 * the file's first byte, with nothing erased. */
START_TEST(test_upload_full_flash_form)
{
  size_t n = TL_USER_CAPACITY;
  uint8_t *img = tl_app(n + 1, 16);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, n, true);
  login_ok();
  new_conn();
  post_upload(token, &b, (uint32_t)b.len, false, 1460);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 200);
  ck_assert_mem_eq(flash.mem + (TL_USER_BASE - STM32_FLASH_BASE), img, n);
  free(b.p);

  for (unsigned s = 4; s < STM32_FLASH_SECTOR_COUNT; s++)
    flash_model_erase_sector(&flash.model, s);
  memset(flash.model.erase_count, 0, sizeof(flash.model.erase_count));
  b = form_body("----WebKitFormBoundaryQ1", img, n + 1, true);
  new_conn();
  post_upload(token, &b, (uint32_t)b.len, false, 1460);
  r = last_response();
  ck_assert_int_eq(r.status, 413);
  char text[300];
  snprintf(text, sizeof(text), "413 Payload Too Large: image too large: the request is %u bytes, "
           "the user flash 0x%08x-0x%08x holds %u bytes", (unsigned)b.len, TL_USER_BASE,
           TL_USER_BASE + TL_USER_CAPACITY - 1, TL_USER_CAPACITY);
  assert_page(&r, "/error.html", text);
  assert_flash_untouched();
  ck_assert(!iap_writer_busy(&writer));
  free(b.p);
  free(img);
}
END_TEST

START_TEST(test_upload_wrong_link_address)
{
  uint8_t *img = tl_image(4000, TL_SP, 0x08000000u + 0x1C9u, 15);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, 4000, true);
  login_ok();
  new_conn();
  post_upload(token, &b, (uint32_t)b.len, false, 1460);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 422);
  ck_assert(body_has(&r, "422 Unprocessable Entity: "));
  ck_assert(body_has(&r, "0x08010000"));
  assert_flash_untouched();
  ck_assert(io.closed);
  ck_assert(!iap_writer_busy(&writer));
  free(b.p);
  free(img);
}
END_TEST

START_TEST(test_upload_broken_bodies)
{
  size_t n = 50000;
  uint8_t *img = tl_app(n, 16);
  struct body open_ended = form_body("----WebKitFormBoundaryQ1", img, n, false);
  struct body whole = form_body("----WebKitFormBoundaryQ1", img, n, true);
  login_ok();

  /* Content-Length reached without the closing boundary */
  new_conn();
  post_upload(token, &open_ended, (uint32_t)open_ended.len, false, 1460);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 400);
  assert_page(&r, "/error.html", "400 Bad Request: the upload ended before the closing boundary "
              "(incomplete body)");
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert(!iap_writer_busy(&writer));

  /* connection dropped mid-body */
  new_conn();
  struct body half = { whole.p, whole.len / 2 };
  post_upload(token, &half, (uint32_t)whole.len, false, 1460);
  ck_assert(iap_writer_busy(&writer));
  http_conn_closed(&conn, "the connection was reset by the client");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert_uint_eq(app.uploads_failed, 2);

  /* idle: the client stops sending */
  new_conn();
  post_upload(token, &half, (uint32_t)whole.len, false, 1460);
  now_ms += HTTP_IDLE_TIMEOUT_MS - 1;
  http_conn_poll(&conn, now_ms);
  ck_assert(iap_writer_busy(&writer));
  now_ms += 1;
  http_conn_poll(&conn, now_ms);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert(io.closed);
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);

  /* and the next upload works */
  login_ok();
  new_conn();
  post_upload(token, &whole, (uint32_t)whole.len, false, 1460);
  ck_assert_int_eq(last_response().status, 200);
  assert_flash_holds(img, n);
  free(open_ended.p);
  free(whole.p);
  free(img);
}
END_TEST

START_TEST(test_upload_transfer_encoding)
{
  /* python-multipart and formidable decode base64 parts; this board refuses them by name
   * rather than writing the Base64 text to flash ("initial stack pointer 0x3d30303d"). */
  uint8_t *img = tl_app(3000, 21);
  static const char part_head[] =
    "--b1\r\nContent-Disposition: form-data; name=\"datafile\"; filename=\"app.bin\"\r\n"
    "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: %s\r\n\r\n";
  char head[300], req[400];
  login_ok();
  for (int i = 0; i < 2; i++) {
    const char *enc = i == 0 ? "base64" : "binary";
    int hl = snprintf(head, sizeof(head), part_head, enc);
    size_t len = (size_t)hl + 3000 + strlen("\r\n--b1--\r\n");
    snprintf(req, sizeof(req), "POST /upload.cgi HTTP/1.1\r\nHost: 192.168.0.10\r\n"
             "Content-Type: multipart/form-data; boundary=b1\r\nContent-Length: %zu\r\n"
             "Cookie: iapd_session=%s\r\n\r\n", len, token);
    new_conn();
    send_text(req);
    send_text(head);
    send_bytes(img, 3000, 1000);
    send_text("\r\n--b1--\r\n");
    struct response r = last_response();
    if (i == 0) {
      ck_assert(strncmp(r.head, "HTTP/1.1 415 Unsupported Media Type\r\n", 37) == 0);
      assert_page(&r, "/error.html", "415 Unsupported Media Type: a part is sent with "
                  "Content-Transfer-Encoding: base64, which the board does not decode "
                  "(RFC 7578 4.7): send the file&#39;s bytes as they are");
      ck_assert(io.closed);
      assert_flash_untouched();
      ck_assert(!iap_writer_busy(&writer));
    } else {
      ck_assert_int_eq(r.status, 200);  /* binary is the identity: the upload as ever */
      assert_flash_holds(img, 3000);
    }
  }
  free(img);
}
END_TEST

START_TEST(test_upload_busy)
{
  struct iap_error err;
  uint8_t *img = tl_app(1000, 17);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, 1000, true);
  login_ok();
  ck_assert_int_eq(iap_writer_begin(&writer, "TFTP", "192.0.2.9", 0, &err), IAP_OK);
  new_conn();
  post_upload(token, &b, (uint32_t)b.len, true, 0);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 409);
  assert_page(&r, "/error.html",
              "409 Conflict: board busy: a TFTP upload from 192.0.2.9 is in progress");
  iap_writer_abort(&writer, "test");
  /* and the other way round: an HTTP upload in progress makes the writer busy for TFTP */
  new_conn();
  struct body half = { b.p, 300 };
  post_upload(token, &half, (uint32_t)b.len, false, 0);
  ck_assert_int_eq(iap_writer_begin(&writer, "TFTP", "192.0.2.9", 0, &err), IAP_ERR_BUSY);
  http_conn_closed(&conn, "test over");
  free(b.p);
  free(img);
}
END_TEST

/* Every state-changing request with `extra` header lines (Origin, Referer), a valid session
 * or Basic auth: the status of each, in table order. */
static void state_changing(const char *extra, int status[5])
{
  char req[700];
  uint8_t *img = tl_app(1000, 22);
  struct body b = form_body("b2", img, 1000, true);
  unsigned resets_before = resets;

  login_ok();
  for (int i = 0; i < 5; i++) {
    const char *h = "Host: 192.168.0.10\r\n";
    now_ms += 10;  /* sessions are kept by last use: the fifth login evicts the oldest */
    if (i == 4)
      login_ok();  /* the logout ended the session */
    if (i == 0)
      snprintf(req, sizeof(req), "POST /checklogin.cgi HTTP/1.1\r\n%s%sContent-Length: 28"
               "\r\n\r\nusername=user&password=stm32", h, extra);
    else if (i == 1)
      snprintf(req, sizeof(req), "POST /upload.cgi HTTP/1.1\r\n%s%sContent-Type: "
               "multipart/form-data; boundary=b2\r\nCookie: iapd_session=%s\r\n"
               "Content-Length: %zu\r\n\r\n", h, extra, token, b.len);
    else if (i == 2)
      snprintf(req, sizeof(req), "PUT /firmware HTTP/1.1\r\n%s%sAuthorization: Basic "
               "dXNlcjpzdG0zMg==\r\nContent-Length: 1000\r\n\r\n", h, extra);
    else
      snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\n%s%sCookie: iapd_session=%s\r\n"
               "Content-Length: 0\r\n\r\n", i == 3 ? "/logout.cgi" : "/resetmcu.cgi", h,
               extra, token);
    new_conn();
    send_text(req);
    if (i == 1)
      send_bytes(b.p, b.len, 500);
    if (i == 2)
      send_bytes(img, 1000, 500);
    status[i] = last_response().status;
  }
  ck_assert_uint_eq(resets_before, resets);  /* the callback is the glue's: never here */
  free(b.p);
  free(img);
}

START_TEST(test_cross_site_refused)
{
  int st[5];
  /* another site's page: 403 for every state-changing request, nothing written */
  static const char *const foreign[] = {
    "Origin: http://evil.example\r\n",
    "Origin: null\r\n",                                      /* sandboxed frame, file: */
    "Origin: https://192.168.0.10\r\n",                      /* not this server: no TLS */
    "Origin: http://192.168.0.10:8080\r\n",
    "Origin: http://192.168.0.100\r\n",
    "Origin: http://192.168.0.1\r\n",
    "Referer: http://evil.example/attack.html\r\n",          /* no Origin: the Referer's */
    "Referer: http://192.168.0.10.evil.example/\r\n",
    "Referer: http://evil.example\r\n",
    /* the Origin wins over a Referer that names the board */
    "Referer: http://192.168.0.10/upload.html\r\nOrigin: http://evil.example\r\n",
    "Origin: http://evil.example\r\nReferer: http://192.168.0.10/upload.html\r\n",
  };
  for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
    state_changing(foreign[i], st);
    for (int k = 0; k < 5; k++)
      ck_assert_msg(st[k] == 403, "%s: request %d got %d", foreign[i], k, st[k]);
    assert_flash_untouched();
  }
  /* the exact answers: the error page, or JSON for the script endpoint */
  state_changing("Origin: http://evil.example\r\n", st);
  new_conn();
  send_text("POST /resetmcu.cgi HTTP/1.1\r\nHost: 192.168.0.10\r\nOrigin: http://evil.example\r\n"
            "Content-Length: 0\r\n\r\n");
  struct response r = last_response();
  ck_assert(strncmp(r.head, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
  ck_assert_ptr_nonnull(strstr(r.head, "Connection: close\r\n"));
  assert_page(&r, "/error.html", "403 Forbidden: cross-site request refused: its Origin "
              "http://evil.example is not this board (192.168.0.10)");
  ck_assert(io.closed);
  ck_assert(!io.close_reset);
  new_conn();
  send_text("PUT /firmware HTTP/1.1\r\nHost: 192.168.0.10\r\nReferer: http://evil.example/x\r\n"
            "Authorization: Basic dXNlcjpzdG0zMg==\r\nContent-Length: 4\r\n\r\nabcd");
  r = last_response();
  static const char json[] = "{\"ok\":false,\"status\":403,\"error\":\"cross-site request "
                             "refused: its Referer http://evil.example is not this board "
                             "(192.168.0.10)\"}\n";
  ck_assert_int_eq(r.status, 403);
  ck_assert_uint_eq(r.body_len, strlen(json));
  ck_assert(memcmp(r.body, json, r.body_len) == 0);
  ck_assert(io.closed);
  assert_flash_untouched();
  /* a login from another site gets no session */
  new_conn();
  send_text("POST /checklogin.cgi HTTP/1.1\r\nHost: 192.168.0.10\r\nOrigin: http://evil.example"
            "\r\nContent-Length: 28\r\n\r\nusername=user&password=stm32");
  ck_assert_int_eq(last_response().status, 403);
  ck_assert_ptr_null(strstr(io.out, "Set-Cookie"));
}
END_TEST

START_TEST(test_same_origin_taken)
{
  int st[5];
  /* the board's own pages, and scripts that send neither header: as before */
  static const char *const own[] = {
    "", "Origin: http://192.168.0.10\r\n", "Origin: HTTP://192.168.0.10:80\r\n",
    "Referer: http://192.168.0.10/upload.html\r\n", "Referer: http://192.168.0.10\r\n",
    "Referer: http://192.168.0.10:80/checklogin.cgi?x=1\r\n",
  };
  for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
    memset(flash.mem + (TL_USER_BASE - STM32_FLASH_BASE), 0xFF, 0x10000);
    state_changing(own[i], st);
    ck_assert_msg(st[0] == 200 && st[1] == 200 && st[2] == 200 && st[3] == 200 && st[4] == 200,
                  "%s: %d %d %d %d %d", own[i], st[0], st[1], st[2], st[3], st[4]);
    ck_assert(io.close_reset);  /* the reset page asked for its reset */
  }
  /* GET and HEAD are never checked: a link from another site still opens the login page */
  new_conn();
  send_text("GET / HTTP/1.1\r\nHost: 192.168.0.10\r\nOrigin: http://evil.example\r\n"
            "Referer: http://evil.example/\r\n\r\n");
  ck_assert_int_eq(last_response().status, 200);
}
END_TEST

static void put_firmware(const char *auth, const uint8_t *img, size_t n, bool chunked,
                         bool expect)
{
  char head[400];
  snprintf(head, sizeof(head), "PUT /firmware HTTP/1.1\r\nHost: 192.168.0.10\r\n%s%s%s"
           "User-Agent: curl/7.88.1\r\nAccept: */*\r\n", auth ? "Authorization: " : "",
           auth ? auth : "", auth ? "\r\n" : "");
  char *p = head + strlen(head);
  if (chunked)
    p += sprintf(p, "Transfer-Encoding: chunked\r\n");
  else
    p += sprintf(p, "Content-Length: %zu\r\n", n);
  if (expect)
    p += sprintf(p, "Expect: 100-continue\r\n");
  sprintf(p, "\r\n");
  new_conn();
  send_text(head);
  if (io.closed)
    return;
  if (!chunked) {
    send_bytes(img, n, 1460);
    return;
  }
  for (size_t at = 0; at < n && !io.closed;) {
    size_t c = n - at < 4000 ? n - at : 4000;
    char size[16];
    snprintf(size, sizeof(size), "%zx\r\n", c);
    send_text(size);
    send_bytes(img + at, c, 1460);
    send_text("\r\n");
    at += c;
  }
  send_text("0\r\n\r\n");
}

START_TEST(test_put_firmware)
{
  size_t n = 20000;
  uint8_t *img = tl_app(n, 18);
  char json[200];
  snprintf(json, sizeof(json), "{\"ok\":true,\"size\":%zu,\"crc32\":\"0x%08x\",\"address\":"
           "\"0x08010000\"}\n", n, crc32_update(0, img, n));

  put_firmware("Basic dXNlcjpzdG0zMg==", img, n, false, true);  /* user:stm32 */
  struct response r = last_response();
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(io.out, "HTTP/1.1 100 Continue\r\n\r\n"));
  ck_assert_ptr_nonnull(strstr(r.head, "Content-Type: application/json\r\n"));
  ck_assert_uint_eq(r.body_len, strlen(json));
  ck_assert(memcmp(r.body, json, r.body_len) == 0);
  assert_flash_holds(img, n);

  /* chunked (curl -T -) */
  memset(flash.mem + (TL_USER_BASE - STM32_FLASH_BASE), 0xFF, 0x10000);
  put_firmware("Basic dXNlcjpzdG0zMg==", img, n, true, false);
  r = last_response();
  ck_assert_int_eq(r.status, 200);
  ck_assert(memcmp(r.body, json, r.body_len) == 0);
  assert_flash_holds(img, n);

  /* POST with application/octet-stream works too; another type does not */
  char head[300];
  snprintf(head, sizeof(head), "POST /firmware HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
           "dXNlcjpzdG0zMg==\r\nContent-Type: application/octet-stream\r\nContent-Length: %zu"
           "\r\n\r\n", n);
  new_conn();
  send_text(head);
  send_bytes(img, n, 1000);
  ck_assert_int_eq(last_response().status, 200);
  new_conn();
  send_text("POST /firmware HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            "Content-Length: 0\r\n\r\n");
  ck_assert_int_eq(last_response().status, 415);
  /* no type at all: what fetch() sends cross-site without a preflight; refused too */
  new_conn();
  send_text("POST /firmware HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpzdG0zMg==\r\n"
            "Content-Length: 0\r\n\r\n");
  ck_assert_int_eq(last_response().status, 415);
  free(img);
}
END_TEST

START_TEST(test_put_refusals)
{
  size_t n = 5000;
  uint8_t *img = tl_app(n, 19);
  static const char www[] = "\r\nWWW-Authenticate: Basic realm=\"iapd\", charset=\"UTF-8\"\r\n";

  put_firmware(NULL, img, n, false, true);
  struct response r = last_response();
  ck_assert_int_eq(r.status, 401);
  ck_assert_ptr_nonnull(strstr(r.head, www));
  ck_assert_ptr_null(strstr(io.out, "100 Continue"));
  static const char e401[] = "{\"ok\":false,\"status\":401,\"error\":\"authentication required "
                             "(HTTP Basic: curl -u user:password)\"}\n";
  ck_assert_uint_eq(r.body_len, strlen(e401));
  ck_assert(memcmp(r.body, e401, r.body_len) == 0);
  ck_assert(io.closed);

  put_firmware("Basic dXNlcjpzdG0zMw==", img, n, false, false);  /* user:stm33 */
  r = last_response();
  ck_assert_int_eq(r.status, 401);
  ck_assert(io.closed);  /* after the body was read and dropped */
  put_firmware("Basic !!!", img, n, false, false);
  ck_assert_int_eq(last_response().status, 401);
  put_firmware("Bearer x", img, n, false, false);
  ck_assert_int_eq(last_response().status, 401);
  assert_flash_untouched();

  /* too large: refused on Content-Length, before anything is erased */
  char head[300];
  snprintf(head, sizeof(head), "PUT /firmware HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
           "dXNlcjpzdG0zMg==\r\nContent-Length: %u\r\nExpect: 100-continue\r\n\r\n",
           TL_USER_CAPACITY + 1u);
  new_conn();
  send_text(head);
  r = last_response();
  ck_assert_int_eq(r.status, 413);
  ck_assert(body_has(&r, "\"error\":\"image too large: 982913 bytes, the user flash "
                         "0x08010000-0x080fff7f holds 982912 bytes\""));
  assert_flash_untouched();

  /* wrong link address */
  uint8_t *bad = tl_image(n, TL_SP, 0x08000000u + 0x1C9u, 20);
  put_firmware("Basic dXNlcjpzdG0zMg==", bad, n, false, false);
  r = last_response();
  ck_assert_int_eq(r.status, 422);
  assert_flash_untouched();

  /* no length */
  new_conn();
  send_text("PUT /firmware HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpzdG0zMg==\r\n\r\n");
  ck_assert_int_eq(last_response().status, 411);
  /* empty */
  put_firmware("Basic dXNlcjpzdG0zMg==", img, 0, false, false);
  r = last_response();
  ck_assert_int_eq(r.status, 422);
  ck_assert(body_has(&r, "image too small: 0 bytes"));
  /* chunked body broken mid-way: 400, nothing bootable */
  new_conn();
  send_text("PUT /firmware HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpzdG0zMg==\r\n"
            "Transfer-Encoding: chunked\r\n\r\n10\r\n");
  send_bytes(img, 16, 0);
  send_text("XX");
  ck_assert_int_eq(last_response().status, 400);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  free(bad);
  free(img);
}
END_TEST

START_TEST(test_bad_heads_close)
{
  send_text("POST /firmware HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
  struct response r = last_response();
  ck_assert_int_eq(r.status, 400);
  ck_assert_ptr_nonnull(strstr(r.head, "Connection: close\r\n"));
  ck_assert(io.closed);

  /* two Host lines: 400 with the error page, closed (RFC 9112 3.2) */
  new_conn();
  send_text("GET /upload.html HTTP/1.1\r\nHost: 192.168.0.10\r\nHost: evil.example\r\n\r\n");
  r = last_response();
  ck_assert(strncmp(r.head, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
  ck_assert_ptr_nonnull(strstr(r.head, "Connection: close\r\n"));
  assert_page(&r, "/error.html", "400 Bad Request: more than one Host header (RFC 9112 3.2)");
  ck_assert(io.closed);

  new_conn();
  char *big = malloc(HTTP_HEADER_BLOCK_MAX + 200);
  strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\n");
  while (strlen(big) < HTTP_HEADER_BLOCK_MAX + 50)
    strcat(big, "X-Pad: 0123456789012345678901234567890123456789\r\n");
  strcat(big, "\r\n");
  send_text(big);
  r = last_response();
  ck_assert_int_eq(r.status, 431);
  ck_assert(strncmp(r.head, "HTTP/1.1 431 Request Header Fields Too Large\r\n", 46) == 0);
  ck_assert(io.closed);
  free(big);
}
END_TEST

START_TEST(test_keep_alive_pipelined)
{
  static const char two[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  io.room = 100;  /* the second request waits until the first answer is out */
  send_bytes(two, sizeof(two) - 1, 0);
  ck_assert_int_eq(response_at(0).status, 200);
  struct response r = response_at(1);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.head, "text/css"));
  ck_assert_ptr_nonnull(strstr(r.head, "Connection: close\r\n"));
  ck_assert(io.closed);

  /* HTTP/1.0: closes unless asked not to */
  new_conn();
  send_text("GET / HTTP/1.0\r\n\r\n");
  ck_assert(io.closed);
  new_conn();
  send_text("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ck_assert(!io.closed);
  ck_assert_ptr_nonnull(strstr(response_at(0).head, "Connection: keep-alive\r\n"));
  /* idle keep-alive connections close */
  now_ms += HTTP_IDLE_TIMEOUT_MS;
  http_conn_poll(&conn, now_ms);
  ck_assert(io.closed);
}
END_TEST

/* The clock moves by step_ms at a time, with a poll after each step, as lwIP's timer does. */
static void advance(uint32_t ms, uint32_t step_ms)
{
  for (uint32_t t = 0; t < ms;) {
    uint32_t d = ms - t < step_ms ? ms - t : step_ms;
    now_ms += d;
    t += d;
    http_conn_poll(&conn, now_ms);
  }
}

START_TEST(test_head_deadline)
{
  /* a head trickled one byte a second: 408 when its first byte is HTTP_HEAD_TIMEOUT_MS old */
  static const char head[] = "GET /style.css HTTP/1.1\r\nHost: 192.168.0.10\r\n\r\n";
  ck_assert_uint_eq(HTTP_HEAD_TIMEOUT_MS, 5000);
  now_ms += HTTP_IDLE_TIMEOUT_MS - 1;  /* an idle wait before the first byte does not count */
  http_conn_poll(&conn, now_ms);
  ck_assert(!io.closed);
  for (int i = 0; i < 5; i++) {
    send_bytes(head + i, 1, 0);
    advance(999, 999);
    ck_assert(!io.closed);
    advance(1, 1);
  }
  ck_assert(io.closed);
  struct response r = last_response();
  char expected[512];
  char *page = expected_page("/error.html", "408 Request Timeout: the request head did not "
                             "arrive within 5000 ms");
  snprintf(expected, sizeof(expected),
           "HTTP/1.1 408 Request Timeout\r\n"
           "Content-Type: text/html; charset=utf-8\r\n"
           "Content-Encoding: gzip\r\n"
           "Content-Length: %zu\r\n"
           "Cache-Control: no-store\r\n"
           "X-Content-Type-Options: nosniff\r\n"
           "X-Frame-Options: DENY\r\n"
           "Connection: close\r\n"
           "\r\n", r.wire_len);
  ck_assert_str_eq(r.head, expected);
  assert_page(&r, "/error.html", "408 Request Timeout: the request head did not arrive "
              "within 5000 ms");
  ck_assert_uint_eq(io.len, strlen(expected) + r.wire_len);  /* that answer, nothing else */
  ck_assert_uint_eq(io.closes, 1);
  free(page);

  /* a head complete just before its deadline is answered; the next one has its own */
  new_conn();
  send_bytes(head, 10, 0);
  advance(HTTP_HEAD_TIMEOUT_MS - 1, 1000 - 1);
  send_text(head + 10);
  ck_assert_int_eq(last_response().status, 200);
  ck_assert(!io.closed);
  send_bytes(head, 3, 0);
  advance(HTTP_HEAD_TIMEOUT_MS - 1, 500);
  ck_assert(!io.closed);
  advance(1, 1);
  ck_assert(io.closed);
  ck_assert_int_eq(last_response().status, 408);
}
END_TEST

START_TEST(test_body_min_rate)
{
  /* a form upload at 1000 bytes/s: below 1024 over the first 10 s window, 408 and aborted */
  size_t n = 60000;
  uint8_t *img = tl_app(n, 23);
  struct body b = form_body("----WebKitFormBoundaryQ1", img, n, true);
  ck_assert_uint_eq(HTTP_BODY_MIN_RATE, 1024);
  ck_assert_uint_eq(HTTP_BODY_RATE_WINDOW_MS, 10000);
  login_ok();
  new_conn();
  post_upload(token, NULL, (uint32_t)b.len, false, 0);
  size_t at = 0;
  for (int s = 0; s < 9; s++) {
    send_bytes(b.p + at, 1000, 0);
    at += 1000;
    advance(1000, 1000);
  }
  ck_assert(iap_writer_busy(&writer));  /* 9 s in: still within the window */
  send_bytes(b.p + at, 1000, 0);
  at += 1000;
  advance(1000, 1000);                  /* 10000 bytes in 10 s: 240 short */
  ck_assert(io.closed);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert_uint_eq(app.uploads_failed, 1);
  struct response r = last_response();
  ck_assert(strncmp(r.head, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
  ck_assert_ptr_nonnull(strstr(r.head, "Connection: close\r\n"));
  assert_page(&r, "/error.html", "408 Request Timeout: the request body arrived slower than "
              "1024 bytes/s");

  /* at 1024 bytes/s it goes on, window after window, and completes */
  memset(flash.mem + (TL_USER_BASE - STM32_FLASH_BASE), 0xFF, 0x10000);
  new_conn();
  post_upload(token, NULL, (uint32_t)b.len, false, 0);
  for (at = 0; at < b.len && !io.closed;) {
    size_t k = b.len - at < 1024 ? b.len - at : 1024;
    send_bytes(b.p + at, k, 0);
    at += k;
    advance(1000, 1000);
  }
  ck_assert_int_eq(last_response().status, 200);
  assert_flash_holds(img, n);

  /* a raw upload that stops: 408 in JSON, the flash left unbootable */
  memset(flash.mem + (TL_USER_BASE - STM32_FLASH_BASE), 0xFF, 0x10000);
  char head[300];
  snprintf(head, sizeof(head), "PUT /firmware HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
           "dXNlcjpzdG0zMg==\r\nContent-Length: %zu\r\n\r\n", n);
  new_conn();
  send_text(head);
  send_bytes(img, 8000, 1460);
  advance(HTTP_BODY_RATE_WINDOW_MS, 1000);
  ck_assert(io.closed);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  r = last_response();
  static const char json[] = "{\"ok\":false,\"status\":408,\"error\":\"the request body arrived "
                             "slower than 1024 bytes/s\"}\n";
  ck_assert_int_eq(r.status, 408);
  ck_assert_uint_eq(r.body_len, strlen(json));
  ck_assert(memcmp(r.body, json, r.body_len) == 0);
  free(b.p);
  free(img);
}
END_TEST

START_TEST(test_stalled_ranking)
{
  /* what the glue ranks connections by when it must close one for a new one */
  ck_assert(http_conn_waiting(&conn));
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms), 0);
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms + 700), 700);
  now_ms += 3000;
  send_text("GET / HTTP/1.1\r\nHo");  /* a trickled head waits since the connection opened */
  ck_assert(http_conn_waiting(&conn));
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms), 3000);
  send_text("st: x\r\n\r\n");
  ck_assert(http_conn_waiting(&conn));  /* answered: waiting for the next, from now */
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms + 10), 10);

  /* a body: stalled only when behind the minimum rate, by the time the bytes missing take */
  login_ok();
  new_conn();
  post_upload(token, NULL, 100000, false, 0);
  ck_assert(!http_conn_waiting(&conn));
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms), 0);
  ck_assert(!http_conn_at_speed(&conn, now_ms));  /* a head sent whole, no body yet */
  uint8_t junk[2048];
  memcpy(junk, "--", 2);
  memset(junk + 2, 'a', sizeof(junk) - 2);
  send_bytes(junk, 2048, 0);
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms + 2000), 0);  /* 2048 in 2 s */
  ck_assert(http_conn_at_speed(&conn, now_ms + 2000));
  ck_assert(!http_conn_at_speed(&conn, now_ms + 3000));
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms + 3000), 1000); /* 1024 short: 1 s */
  http_conn_closed(&conn, "test over");
  ck_assert_uint_eq(http_conn_stalled_ms(&conn, now_ms + 3000), 0);
}
END_TEST

static Suite *http_suite(void)
{
  Suite *s = suite_create("http");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_login_page_exact);
  tcase_add_test(tc, test_login_and_session);
  tcase_add_test(tc, test_wrong_logins_and_throttle);
  tcase_add_test(tc, test_upload_form_flow);
  tcase_add_test(tc, test_upload_segmentations);
  tcase_add_test(tc, test_upload_without_session);
  tcase_add_test(tc, test_upload_too_large);
  tcase_add_test(tc, test_upload_full_flash_form);
  tcase_add_test(tc, test_upload_wrong_link_address);
  tcase_add_test(tc, test_upload_broken_bodies);
  tcase_add_test(tc, test_upload_transfer_encoding);
  tcase_add_test(tc, test_upload_busy);
  tcase_add_test(tc, test_cross_site_refused);
  tcase_add_test(tc, test_same_origin_taken);
  tcase_add_test(tc, test_put_firmware);
  tcase_add_test(tc, test_put_refusals);
  tcase_add_test(tc, test_bad_heads_close);
  tcase_add_test(tc, test_keep_alive_pipelined);
  tcase_add_test(tc, test_head_deadline);
  tcase_add_test(tc, test_body_min_rate);
  tcase_add_test(tc, test_stalled_ranking);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(http_suite());
}
