/*
 * HTTP request parsing (src/http_request.c): request heads of real browsers (AN3376 Figures 6
 * and 7, Chromium) split at every byte, case and blanks in header names and values, 431 past
 * the header limit, the refusals (TE with CL, unknown coding, Expect, versions, smuggling
 * shapes), and the chunked decoder fed whole, split everywhere and byte by byte.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_request.h"

/* Feeds head in two pieces cut at `cut`; returns the bytes consumed in all. */
static size_t feed_split(struct http_request_parser *p, const char *head, size_t len, size_t cut)
{
  size_t used = http_request_feed(p, (const uint8_t *)head, cut);
  if (used == cut && p->state != RQ_DONE && p->state != RQ_FAILED)
    used += http_request_feed(p, (const uint8_t *)head + cut, len - cut);
  return used;
}

static struct http_request_parser parse(const char *head)
{
  struct http_request_parser p;
  http_request_init(&p);
  http_request_feed(&p, (const uint8_t *)head, strlen(head));
  return p;
}

static void expect_status(const char *head, int status, const char *why)
{
  struct http_request_parser p = parse(head);
  ck_assert_msg(p.state == RQ_FAILED, "accepted: %s", head);
  ck_assert_int_eq(p.status, status);
  if (why)
    ck_assert_str_eq(p.error, why);
}

static const char figure6[] =
  "POST /upload.cgi HTTP/1.1\r\n"
  "Accept: image/gif, image/jpeg, image/pjpeg, application/x-shockwave-flash, */*\r\n"
  "Referer: http://192.168.0.10/checklogin.cgi\r\n"
  "Accept-Language: en-us\r\n"
  "User-Agent: Mozilla/4.0 (compatible; MSIE 8.0; windows NT 5.1; Trident/4.0; .NET CLR "
  "1.1.4322)\r\n"
  "Content-Type: multipart/form-data; boundary=-----7db1672b29603a8\r\n"
  "Accept-Encoding: gzip, deflate\r\n"
  "Host: 192.168.0.10\r\n"
  "Content-Length: 1969\r\n"
  "Connection: keep-alive\r\n"
  "Cache-Control: no-cache\r\n"
  "\r\n"
  "-------7db1672b29603a8\r\n";

static const char figure7[] =
  "POST /upload.cgi HTTP/1.1\r\n"
  "Host: 192.168.0.3\r\n"
  "User-Agent: Mozilla/5.0 (windows NT 5.1; rv:7.0.1) Gecko/20100101 Firefox/7.0.1\r\n"
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
  "Accept-Language: en-us,en;q=0.5\r\n"
  "Accept-Encoding: gzip, deflate\r\n"
  "Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n"
  "Connection: keep-alive\r\n"
  "Referer: http://192.168.0.3/checklogin.cgi\r\n"
  "Content-Type: multipart/form-data; boundary=-----41184676334\r\n"
  "Content-Length: 1961\r\n"
  "\r\n";

START_TEST(test_figure6_every_split)
{
  size_t head_len = strstr(figure6, "\r\n\r\n") - figure6 + 4;
  for (size_t cut = 0; cut <= sizeof(figure6) - 1; cut++) {
    struct http_request_parser p;
    http_request_init(&p);
    size_t used = feed_split(&p, figure6, sizeof(figure6) - 1, cut);
    ck_assert_msg(p.state == RQ_DONE, "split at %zu: state %d", cut, p.state);
    ck_assert_uint_eq(used, head_len);  /* the body is left alone */
    ck_assert_int_eq(p.req.method, HTTP_METHOD_POST);
    ck_assert_str_eq(p.req.path, "/upload.cgi");
    ck_assert_uint_eq(p.req.version_minor, 1);
    ck_assert(p.req.has_content_length);
    ck_assert_uint_eq(p.req.content_length, 1969);
    ck_assert(!p.req.chunked);
    ck_assert(p.req.keep_alive);
    ck_assert_str_eq(p.req.content_type, "multipart/form-data; boundary=-----7db1672b29603a8");
  }
}
END_TEST

START_TEST(test_figure7)
{
  struct http_request_parser p = parse(figure7);
  ck_assert_int_eq(p.state, RQ_DONE);
  ck_assert_uint_eq(p.req.content_length, 1961);
  ck_assert_str_eq(p.req.content_type, "multipart/form-data; boundary=-----41184676334");
  ck_assert(p.req.has_host);
}
END_TEST

START_TEST(test_case_and_blanks)
{
  struct http_request_parser p = parse(
    "\r\n\r\nPUT /firmware?x=1 HTTP/1.1\n"
    "hOsT:b\n"
    "content-LENGTH: \t 42 \t\n"
    "EXPECT:   100-Continue\r\n"
    "authorization:Basic dXNlcjpzdG0zMg==   \r\n"
    "Cookie: a=b; iapd_session=0123abcd; c=d\r\n"
    "CONNECTION: Upgrade, close\r\n"
    "\n");
  ck_assert_int_eq(p.state, RQ_DONE);
  ck_assert_int_eq(p.req.method, HTTP_METHOD_PUT);
  ck_assert_str_eq(p.req.path, "/firmware");
  ck_assert_uint_eq(p.req.content_length, 42);
  ck_assert(p.req.expect_continue);
  ck_assert_str_eq(p.req.authorization, "Basic dXNlcjpzdG0zMg==");
  ck_assert_str_eq(p.req.session, "0123abcd");
  ck_assert(!p.req.keep_alive);
}
END_TEST

START_TEST(test_http10)
{
  struct http_request_parser p = parse("GET / HTTP/1.0\r\n\r\n");
  ck_assert_int_eq(p.state, RQ_DONE);
  ck_assert(!p.req.keep_alive);
  p = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ck_assert(p.req.keep_alive);
  p = parse("GET http://192.168.0.10/upload.html HTTP/1.1\r\nHost: x\r\n\r\n");
  ck_assert_str_eq(p.req.path, "/upload.html");
}
END_TEST

START_TEST(test_refusals)
{
  expect_status("POST /firmware HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Content-Length: 5\r\n\r\n", 400,
                "both Transfer-Encoding and Content-Length (RFC 7230 3.3.3)");
  expect_status("POST /firmware HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                "transfer-encoding:  Chunked\r\n\r\n", 400, NULL);
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
                "only the chunked transfer coding is supported");
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                "Transfer-Encoding: chunked\r\n\r\n", 400, NULL);
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                400, "two different Content-Length headers");
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n", 400,
                "malformed Content-Length");
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, NULL);
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413,
                NULL);
  expect_status("POST /f HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417, NULL);
  expect_status("GET / HTTP/2.0\r\n\r\n", 505, NULL);
  expect_status("GET / HTTX/1.1\r\n\r\n", 400, NULL);
  expect_status("GET /\r\n\r\n", 400, NULL);
  expect_status("GET  / HTTP/1.1\r\n\r\n", 400, NULL);
  expect_status("GET / HTTP/1.1 \r\n\r\n", 400, NULL);
  expect_status("GET x HTTP/1.1\r\n\r\n", 400, NULL);
  expect_status("G(T / HTTP/1.1\r\n\r\n", 400, NULL);
  expect_status("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400,
                "blank between a header name and its colon (RFC 7230 3.2.4)");
  expect_status("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400,
                "folded header lines are not accepted (RFC 7230 3.2.4)");
  expect_status("GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, NULL);
  expect_status("GET / HTTP/1.1\r\n\r\n", 400, "no Host header (required in HTTP/1.1)");
  /* RFC 9112 3.2: more than one Host field line is a 400, equal values or not */
  expect_status("GET / HTTP/1.1\r\nHost: 192.168.0.10\r\nHost: evil.example\r\n\r\n", 400,
                "more than one Host header (RFC 9112 3.2)");
  expect_status("GET / HTTP/1.1\r\nHost: x\r\nhost: x\r\n\r\n", 400,
                "more than one Host header (RFC 9112 3.2)");
  expect_status("GET / HTTP/1.0\r\nHost: x\r\nHOST:\r\n\r\n", 400,
                "more than one Host header (RFC 9112 3.2)");
  expect_status("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, NULL);
  expect_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, NULL);
  /* Both, but Content-Length first and a folded TE: still refused (folding). */
  expect_status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nX: y\r\n"
                " Transfer-Encoding: chunked\r\n\r\n", 400, NULL);
}
END_TEST

static bool same_origin(const char *headers)
{
  char head[4000];
  snprintf(head, sizeof(head), "POST /upload.cgi HTTP/1.1\r\n%s\r\n", headers);
  struct http_request_parser p = parse(head);
  ck_assert_msg(p.state == RQ_DONE, "not parsed: %s", headers);
  return http_request_same_origin(&p.req);
}

START_TEST(test_origin)
{
  ck_assert(same_origin("Host: 192.168.0.10\r\n"));  /* neither: a script */
  ck_assert(same_origin("Host: 192.168.0.10\r\nOrigin: http://192.168.0.10\r\n"));
  ck_assert(same_origin("Host: Board.Local:80\r\nOrigin: http://board.local\r\n"));
  ck_assert(same_origin("Host: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\n"));
  ck_assert(same_origin("Host: 192.168.0.10\r\nReferer: http://192.168.0.10/upload.html\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nOrigin: http://evil.example\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nOrigin: null\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nOrigin: http://192.168.0.1\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.1\r\nOrigin: http://192.168.0.10\r\n"));
  ck_assert(!same_origin("Host: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nOrigin: http://\r\n"));
  ck_assert(!same_origin("Host: \r\nOrigin: http://\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nReferer: /upload.html\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nReferer: http://192.168.0.10@evil.example/\r\n"));
  ck_assert(!same_origin("Referer: http://192.168.0.10/\r\nHost: 192.168.0.10\r\n"
                         "Origin: http://evil.example\r\n"));
  ck_assert(!same_origin("Host: 192.168.0.10\r\nOrigin: http://evil.example\r\n"
                         "Referer: http://192.168.0.10/\r\n"));
  /* an origin too long to keep cannot be this server's */
  char h[3000];
  snprintf(h, sizeof(h), "Host: 192.168.0.10\r\nOrigin: http://%0100d.example\r\n", 0);
  ck_assert(!same_origin(h));
  /* a Referer line too long for the parser's line buffer is still read for its origin */
  snprintf(h, sizeof(h), "Host: 192.168.0.10\r\nReferer: http://evil.example/%02000d\r\n", 0);
  ck_assert(!same_origin(h));
  snprintf(h, sizeof(h), "Host: 192.168.0.10\r\nReferer: http://192.168.0.10/%02000d\r\n", 0);
  ck_assert(same_origin(h));
  snprintf(h, sizeof(h), "Host: 192.168.0.10\r\nOrigin: http://evil.example%02000d\r\n", 0);
  ck_assert(!same_origin(h));
  /* a Host too long to keep is a 431, like every header the server needs */
  snprintf(h, sizeof(h), "GET / HTTP/1.1\r\nHost: %0*d\r\n\r\n", HTTP_HOST_MAX, 0);
  expect_status(h, 431, "a request header is too large");
}
END_TEST

/* A head of `size` bytes: a request line, Host, filler headers (not read by the server). */
static char *big_head(size_t size, const char *filler_name)
{
  char *h = malloc(size + 1);
  size_t n = (size_t)snprintf(h, size + 1, "GET /upload.html HTTP/1.1\r\nHost: 192.168.0.10\r\n");
  int i = 0;
  while (n + 2 < size) {
    size_t room = size - 2 - n;
    size_t line = room > 100 ? 100 : room;
    if (room - line < 8 && room > line)
      line = room;  /* no tiny last line */
    int k = snprintf(h + n, line + 1, "%s-%d: ", filler_name, i++);
    memset(h + n + k, 'v', line - (size_t)k - 2);
    memcpy(h + n + line - 2, "\r\n", 2);
    n += line;
  }
  memcpy(h + n, "\r\n", 2);
  h[size] = '\0';
  return h;
}

START_TEST(test_header_limits)
{
  /* 4 KiB and 8 KiB heads are taken */
  for (size_t size = 4096; size <= HTTP_HEADER_BLOCK_MAX; size += 4096) {
    char *h = big_head(size, "X-Filler");
    ck_assert_uint_eq(strlen(h), size);
    struct http_request_parser p = parse(h);
    ck_assert_msg(p.state == RQ_DONE, "%zu-byte head: %d %s", size, p.status, p.error);
    free(h);
  }
  /* one byte more is 431 */
  char *h = big_head(HTTP_HEADER_BLOCK_MAX + 1, "X-Filler");
  expect_status(h, 431, "request header fields too large");
  free(h);

  /* a long line of a header the server skips is fine; of one it reads, 431 */
  char line[HTTP_LINE_MAX * 3];
  memset(line, 'a', sizeof(line));
  line[sizeof(line) - 1] = '\0';
  char *req = malloc(sizeof(line) + 100);
  snprintf(req, sizeof(line) + 100, "GET / HTTP/1.1\r\nUser-Agent: %s\r\nHost: x\r\n\r\n", line);
  struct http_request_parser p = parse(req);
  ck_assert_int_eq(p.state, RQ_DONE);
  ck_assert(p.req.has_host);
  snprintf(req, sizeof(line) + 100, "GET / HTTP/1.1\r\nHost: x\r\ncookie: x=%s\r\n\r\n", line);
  expect_status(req, 431, "a request header is too large");
  snprintf(req, sizeof(line) + 100, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", line);
  expect_status(req, 414, NULL);
  snprintf(req, sizeof(line) + 100, "GET /%.300s HTTP/1.1\r\nHost: x\r\n\r\n", line);
  expect_status(req, 414, "request target too long");
  snprintf(req, sizeof(line) + 100, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %.200s\r\n\r\n",
           line);
  expect_status(req, 431, "a request header is too large");
  free(req);
}
END_TEST

START_TEST(test_pipelined)
{
  static const char two[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /style.css HTTP/1.1\r\n";
  struct http_request_parser p;
  http_request_init(&p);
  size_t used = http_request_feed(&p, (const uint8_t *)two, sizeof(two) - 1);
  ck_assert_int_eq(p.state, RQ_DONE);
  ck_assert_uint_eq(used, strlen("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
}
END_TEST

/* --- bodies -------------------------------------------------------------------------------- */

struct decoded {
  char data[256];
  size_t len;
};

/* Decodes body (len bytes) cut at the given offsets; returns the final state. */
static enum http_body_state decode(const struct http_request *req, const char *body, size_t len,
                                   const size_t *cuts, size_t ncuts, struct decoded *d,
                                   size_t *consumed)
{
  struct http_body b;
  size_t at = 0;

  http_body_init(&b, req);
  d->len = 0;
  *consumed = 0;
  for (size_t i = 0; i <= ncuts && b.state != BODY_DONE && b.state != BODY_FAILED; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    while (at < end && b.state != BODY_DONE && b.state != BODY_FAILED) {
      const uint8_t *out;
      size_t out_len;
      size_t n = http_body_decode(&b, (const uint8_t *)body + at, end - at, &out, &out_len);
      ck_assert(out_len <= n);
      ck_assert(d->len + out_len <= sizeof(d->data));
      memcpy(d->data + d->len, out, out_len);
      d->len += out_len;
      at += n;
      if (n == 0)
        break;
    }
  }
  *consumed = at;
  return b.state;
}

static const char wiki[] =
  "4\r\nWiki\r\n5;name=value\r\npedia\r\nE \r\n in\r\n\r\nchunks.\r\n"
  "000000000000000000\r\nX-Trailer: yes\r\n\r\nNEXT";

START_TEST(test_chunked_every_split)
{
  struct http_request req = { .chunked = true };
  struct decoded d;
  size_t consumed;
  size_t len = sizeof(wiki) - 1;

  for (size_t cut = 0; cut <= len; cut++) {
    ck_assert_int_eq(decode(&req, wiki, len, &cut, 1, &d, &consumed), BODY_DONE);
    ck_assert_uint_eq(d.len, strlen("Wikipedia in\r\n\r\nchunks."));
    ck_assert(memcmp(d.data, "Wikipedia in\r\n\r\nchunks.", d.len) == 0);
    ck_assert_uint_eq(consumed, len - 4);  /* "NEXT" is the next request's */
  }
  size_t cuts[sizeof(wiki)];
  for (size_t i = 0; i < len; i++)
    cuts[i] = i;
  ck_assert_int_eq(decode(&req, wiki, len, cuts, len, &d, &consumed), BODY_DONE);
  ck_assert_uint_eq(d.len, 23);
}
END_TEST

START_TEST(test_chunked_errors)
{
  struct http_request req = { .chunked = true };
  struct decoded d;
  size_t consumed;
  static const char *const bad[] = {
    "zz\r\n",                     /* not hex */
    "\r\n",                       /* no size */
    "4\r\nWikiX\r\n0\r\n\r\n",    /* data longer than its size */
    "4\r\nWiki\rX",               /* CR without LF */
    "4\rX",
    "123456789\r\n",              /* more than 32 bits */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(decode(&req, bad[i], strlen(bad[i]), NULL, 0, &d, &consumed) == BODY_FAILED,
                  "accepted %s", bad[i]);
  /* 8 hex digits are fine (the size is checked by the sink, not here) */
  ck_assert_int_eq(decode(&req, "FFFFFFFF\r\nab", 12, NULL, 0, &d, &consumed), BODY_DATA);
  /* bare LF line ends */
  ck_assert_int_eq(decode(&req, "3\nabc\n0\n\n", 9, NULL, 0, &d, &consumed), BODY_DONE);
  ck_assert_uint_eq(d.len, 3);
  /* a truncated body is simply not done */
  ck_assert_int_eq(decode(&req, "5\r\nab", 5, NULL, 0, &d, &consumed), BODY_DATA);
  /* endless extensions are refused */
  char ext[2000];
  memset(ext, 'e', sizeof(ext));
  memcpy(ext, "1;", 2);
  ck_assert_int_eq(decode(&req, ext, sizeof(ext), NULL, 0, &d, &consumed), BODY_FAILED);
}
END_TEST

START_TEST(test_length_body)
{
  struct http_request req = { .has_content_length = true, .content_length = 5 };
  struct decoded d;
  size_t consumed;
  ck_assert_int_eq(decode(&req, "helloGET", 8, NULL, 0, &d, &consumed), BODY_DONE);
  ck_assert_uint_eq(consumed, 5);
  ck_assert_uint_eq(d.len, 5);
  size_t cut = 2;
  ck_assert_int_eq(decode(&req, "hel", 3, &cut, 1, &d, &consumed), BODY_DATA);
  struct http_request none = { 0 };
  ck_assert_int_eq(decode(&none, "x", 1, NULL, 0, &d, &consumed), BODY_DONE);
  ck_assert_uint_eq(consumed, 0);
}
END_TEST

static Suite *request_suite(void)
{
  Suite *s = suite_create("http_request");
  TCase *tc = tcase_create("head");
  tcase_add_test(tc, test_figure6_every_split);
  tcase_add_test(tc, test_origin);
  tcase_add_test(tc, test_figure7);
  tcase_add_test(tc, test_case_and_blanks);
  tcase_add_test(tc, test_http10);
  tcase_add_test(tc, test_refusals);
  tcase_add_test(tc, test_header_limits);
  tcase_add_test(tc, test_pipelined);
  suite_add_tcase(s, tc);
  TCase *tb = tcase_create("body");
  tcase_add_test(tb, test_chunked_every_split);
  tcase_add_test(tb, test_chunked_errors);
  tcase_add_test(tb, test_length_body);
  suite_add_tcase(s, tb);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(request_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
