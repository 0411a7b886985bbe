/*
 * The HTTP server's route table (src/http_routes.c): the table exactly as reviewed, every
 * route's method and path to its handler (HEAD with GET), the plain files of the ROM file
 * system, the Allow lists, and the exact 404 and 405 answers through a connection.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gzip_page.h"
#include "http_core.h"
#include "http_fs.h"
#include "http_login.h"
#include "http_routes.h"
#include "http_upload.h"
#include "testlib.h"

/* The table as it must read, row by row. */
static const struct http_route want_routes[] = {
  { HTTP_METHOD_GET,  "/",               http_login_page },
  { HTTP_METHOD_GET,  "/index.html",     http_login_page },
  { HTTP_METHOD_GET,  "/login.html",     http_login_page },
  { HTTP_METHOD_POST, "/checklogin.cgi", http_login_check },
  { HTTP_METHOD_GET,  "/upload.html",    http_login_upload_page },
  { HTTP_METHOD_POST, "/upload.cgi",     http_upload_form },
  { HTTP_METHOD_PUT,  "/firmware",       http_upload_raw },
  { HTTP_METHOD_POST, "/firmware",       http_upload_raw },
  { HTTP_METHOD_POST, "/resetmcu.cgi",   http_reset_board },
  { HTTP_METHOD_POST, "/logout.cgi",     http_login_logout },
  { HTTP_METHOD_GET,  NULL,              http_serve_file },
};
#define WANT_COUNT (sizeof(want_routes) / sizeof(want_routes[0]))

static const enum http_method all_methods[] = { HTTP_METHOD_OTHER, HTTP_METHOD_GET,
                                                HTTP_METHOD_HEAD, HTTP_METHOD_POST,
                                                HTTP_METHOD_PUT };

/* The handler a request must reach, NULL when none. */
static http_handler_fn *want_handler(enum http_method m, const char *path)
{
  for (size_t i = 0; i < WANT_COUNT; i++) {
    const struct http_route *w = &want_routes[i];
    bool method = w->method == m || (w->method == HTTP_METHOD_GET && m == HTTP_METHOD_HEAD);
    if (method && w->path != NULL && strcmp(w->path, path) == 0)
      return w->handler;
  }
  return NULL;
}

START_TEST(table_reads_as_reviewed)
{
  ck_assert_uint_eq(http_routes_count, WANT_COUNT);
  for (size_t i = 0; i < WANT_COUNT; i++) {
    const struct http_route *got = &http_routes[i];
    const struct http_route *want = &want_routes[i];
    ck_assert_int_eq(got->method, want->method);
    if (want->path == NULL)
      ck_assert_ptr_null(got->path);
    else
      ck_assert_str_eq(got->path, want->path);
    ck_assert_msg(got->handler == want->handler, "row %zu: another handler", i);
  }
}
END_TEST

START_TEST(every_route_reaches_its_handler)
{
  for (size_t i = 0; i < WANT_COUNT; i++) {
    const struct http_route *w = &want_routes[i];
    if (w->path == NULL)
      continue;
    const struct http_route *r = http_route_find(w->method, w->path);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->handler == w->handler, "%s: another handler", w->path);
    if (w->method == HTTP_METHOD_GET) {
      r = http_route_find(HTTP_METHOD_HEAD, w->path);
      ck_assert_ptr_nonnull(r);
      ck_assert_msg(r->handler == w->handler, "HEAD %s: another handler", w->path);
    }
  }
}
END_TEST

START_TEST(other_methods_find_nothing)
{
  for (size_t i = 0; i < WANT_COUNT; i++) {
    const char *path = want_routes[i].path;
    if (path == NULL)
      continue;
    for (size_t m = 0; m < sizeof(all_methods) / sizeof(all_methods[0]); m++) {
      const struct http_route *r = http_route_find(all_methods[m], path);
      http_handler_fn *want = want_handler(all_methods[m], path);
      if (want == NULL)
        ck_assert_msg(r == NULL, "method %d of %s has a route", (int)all_methods[m], path);
      else
        ck_assert_msg(r != NULL && r->handler == want, "method %d of %s", (int)all_methods[m],
                      path);
    }
  }
  /* exact paths only */
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_PUT, "/firmware/"));
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_PUT, "/Firmware"));
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_GET, ""));
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_GET, "/nothing"));
}
END_TEST

START_TEST(plain_files_are_served_templates_are_not)
{
  unsigned plain = 0;
  for (size_t i = 0; i < http_fs_files_count; i++) {
    const struct http_fs_file *f = &http_fs_files[i];
    const struct http_route *get = http_route_find(HTTP_METHOD_GET, f->path);
    const struct http_route *head = http_route_find(HTTP_METHOD_HEAD, f->path);
    if (f->marker < 0) {
      plain++;
      ck_assert_ptr_nonnull(get);
      ck_assert(get->handler == http_serve_file);
      ck_assert_ptr_nonnull(head);
      ck_assert(head->handler == http_serve_file);
      ck_assert_ptr_null(http_route_find(HTTP_METHOD_POST, f->path));
      ck_assert_ptr_null(http_route_find(HTTP_METHOD_PUT, f->path));
    } else if (want_handler(HTTP_METHOD_GET, f->path) == NULL) {
      ck_assert_msg(get == NULL, "template %s is served as a file", f->path);
      ck_assert_ptr_null(head);
    }
  }
  ck_assert_uint_ge(plain, 1);  /* the stylesheet */
  ck_assert(http_route_find(HTTP_METHOD_GET, "/style.css")->handler == http_serve_file);
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_GET, "/done.html"));
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_GET, "/error.html"));
  ck_assert_ptr_null(http_route_find(HTTP_METHOD_GET, "/reset.html"));
}
END_TEST

static void assert_allow(const char *path, const char *want)
{
  char out[HTTP_ALLOW_MAX];
  memset(out, '#', sizeof(out));
  bool found = http_route_allow(path, out);
  ck_assert_msg(found == (want[0] != '\0'), "%s: allow %d", path, found);
  ck_assert_str_eq(out, want);
}

START_TEST(allow_lists_in_table_order)
{
  assert_allow("/", "GET, HEAD");
  assert_allow("/index.html", "GET, HEAD");
  assert_allow("/login.html", "GET, HEAD");
  assert_allow("/upload.html", "GET, HEAD");
  assert_allow("/style.css", "GET, HEAD");
  assert_allow("/checklogin.cgi", "POST");
  assert_allow("/upload.cgi", "POST");
  assert_allow("/resetmcu.cgi", "POST");
  assert_allow("/logout.cgi", "POST");
  assert_allow("/firmware", "PUT, POST");
  /* no route at all: 404, not 405 */
  assert_allow("/nothing", "");
  assert_allow("/done.html", "");
  assert_allow("/error.html", "");
  assert_allow("/firmware/", "");
  assert_allow("", "");

  /* every path's list fits whole: shorter than the buffer less its NUL, so not cut there */
  for (size_t i = 0; i < WANT_COUNT; i++) {
    char out[HTTP_ALLOW_MAX];
    if (want_routes[i].path != NULL) {
      ck_assert(http_route_allow(want_routes[i].path, out));
      ck_assert_uint_lt(strlen(out), sizeof(out) - 1);
    }
  }
}
END_TEST

/* --- 404 and 405 through a connection ------------------------------------------------------ */

static struct http_app app;
static struct http_conn conn;
static char out[8192];
static size_t out_len;
static bool closed;

static size_t fake_send(void *ctx, const void *data, size_t len, bool copy)
{
  (void)ctx;
  (void)copy;
  ck_assert_uint_lt(out_len + len, sizeof(out));
  memcpy(out + out_len, data, len);
  out_len += len;
  out[out_len] = '\0';
  return len;
}

static void fake_flush(void *ctx)
{
  (void)ctx;
}

static void fake_close(void *ctx, bool reset)
{
  (void)ctx;
  (void)reset;
  closed = true;
}

static const struct http_conn_ops fake_ops = { fake_send, fake_flush, fake_close };

static void conn_setup(void)
{
  struct http_server_config cfg = {
    .user = "user", .password = "stm32", .user_flash_base = TL_USER_BASE,
    .user_flash_size = TL_USER_CAPACITY,
  };
  http_app_init(&app, &cfg);
  http_conn_init(&conn, &app, &fake_ops, NULL, "192.0.2.7:40000", 1000);
  out_len = 0;
  out[0] = '\0';
  closed = false;
}

/* The error page with its text, as the server must send it (decoded). */
static char *error_page(const char *text)
{
  return test_page_with_text("/error.html", text);
}

/* Sends request, returns the length of the answer's head (its body follows in out). */
static size_t answer_to(const char *request)
{
  out_len = 0;
  out[0] = '\0';
  size_t used = http_conn_input(&conn, (const uint8_t *)request, strlen(request), 2000);
  ck_assert_uint_eq(used, strlen(request));
  const char *end = strstr(out, "\r\n\r\n");
  ck_assert_ptr_nonnull(end);
  return (size_t)(end + 4 - out);
}

/* Sends request and checks the whole answer: head with extra lines, and the error page, gzip
 * (its Content-Length is the gzip body's: for HEAD, that of the same request as GET). */
static void assert_answer(const char *request, const char *status_line, const char *extra,
                          const char *text, bool with_body)
{
  char *page = error_page(text);
  size_t head_len;
  if (with_body) {
    head_len = answer_to(request);
  } else {
    char get[512];
    ck_assert_int_eq(strncmp(request, "HEAD ", 5), 0);
    snprintf(get, sizeof(get), "GET %s", request + 5);
    head_len = answer_to(get);
  }
  size_t wire_len = out_len - head_len;
  char want[8192];
  int n = snprintf(want, sizeof(want),
                   "%s\r\n"
                   "Content-Type: text/html; charset=utf-8\r\n"
                   "Content-Encoding: gzip\r\n"
                   "Content-Length: %zu\r\n"
                   "Cache-Control: no-store\r\n"
                   "X-Content-Type-Options: nosniff\r\n"
                   "X-Frame-Options: DENY\r\n"
                   "%s\r\n",
                   status_line, wire_len, extra);
  ck_assert_int_lt(n, (int)sizeof(want));
  head_len = answer_to(request);
  ck_assert_msg(head_len == strlen(want) && memcmp(out, want, head_len) == 0,
                "head:\n%.*s\nexpected:\n%s", (int)head_len, out, want);
  if (with_body) {
    size_t body_len;
    const char *body = test_gunzip(out + head_len, out_len - head_len, &body_len);
    ck_assert_str_eq(body, page);
  } else {
    ck_assert_uint_eq(out_len, head_len);
  }
  ck_assert(!closed);  /* keep-alive: a wrong path is not a broken connection */
  free(page);
}

START_TEST(not_found_exact)
{
  assert_answer("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found", "",
                "404 Not Found: no such page", true);
  assert_answer("GET /done.html HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found", "",
                "404 Not Found: no such page", true);
  assert_answer("HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found", "",
                "404 Not Found: no such page", false);
}
END_TEST

START_TEST(method_not_allowed_exact)
{
  static const char text[] = "405 Method Not Allowed: method not allowed here";
  assert_answer("GET /firmware HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed",
                "Allow: PUT, POST\r\n", text, true);
  assert_answer("PUT /checklogin.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 405 Method Not Allowed", "Allow: POST\r\n", text, true);
  assert_answer("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed",
                "Allow: GET, HEAD\r\n", text, true);
  assert_answer("POST /style.css HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 405 Method Not Allowed", "Allow: GET, HEAD\r\n", text, true);
  assert_answer("HEAD /upload.cgi HTTP/1.1\r\nHost: x\r\n\r\n",
                "HTTP/1.1 405 Method Not Allowed", "Allow: POST\r\n", text, false);
}
END_TEST

static Suite *routes_suite(void)
{
  Suite *s = suite_create("http_routes");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, table_reads_as_reviewed);
  tcase_add_test(tc, every_route_reaches_its_handler);
  tcase_add_test(tc, other_methods_find_nothing);
  tcase_add_test(tc, plain_files_are_served_templates_are_not);
  tcase_add_test(tc, allow_lists_in_table_order);
  suite_add_tcase(s, tc);

  tc = tcase_create("answers");
  tcase_add_checked_fixture(tc, conn_setup, NULL);
  tcase_add_test(tc, not_found_exact);
  tcase_add_test(tc, method_not_allowed_exact);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(routes_suite());
}
