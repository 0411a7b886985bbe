/*
 * iapctl's parts without iapd: the reply-head parser; one HTTP exchange against a scripted
 * server on 127.0.0.1 (the exact request bytes, and every way a reply can be wrong, too
 * long, too late or missing); the status lines and phrases, byte for byte.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_http.h"
#include "ctl_status.h"
#include "testlib.h"

/* --- the reply head ---------------------------------------------------------------------- */

static struct ctl_http_head head;
static char why[200];

static bool parse(const char *text)
{
  why[0] = '\0';
  return ctl_http_parse_head(text, strlen(text), &head, why, sizeof(why));
}

START_TEST(head_ok)
{
  ck_assert(parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "content-length:  42 \r\nCache-Control: no-store\r\n\r\n"));
  ck_assert_int_eq(head.status, 200);
  ck_assert_str_eq(head.reason, "OK");
  ck_assert_str_eq(head.content_type, "application/json");
  ck_assert(head.has_length);
  ck_assert_uint_eq(head.content_length, 42);
  ck_assert(!head.chunked);

  /* HTTP/1.0, bare LF line ends, no length, a reason with blanks */
  ck_assert(parse("HTTP/1.0 404 Not Found\nServer: x\n\n"));
  ck_assert_int_eq(head.status, 404);
  ck_assert_str_eq(head.reason, "Not Found");
  ck_assert(!head.has_length);
  ck_assert_str_eq(head.content_type, "");

  ck_assert(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
  ck_assert(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n"));
  ck_assert(!head.chunked);
  ck_assert(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ck_assert(head.chunked);
}
END_TEST

START_TEST(head_refused)
{
  ck_assert(!parse("SSH-2.0-OpenSSH_9.2p1\r\n\r\n"));
  ck_assert_str_eq(why, "not an HTTP/1.x reply (it starts 'SSH-2.0-Open')");
  ck_assert(!parse("HTTP/2 200\r\n\r\n"));
  ck_assert_str_eq(why, "not an HTTP/1.x reply (it starts 'HTTP/2 200\r\n')");
  ck_assert(!parse("HTTP/1.1 20x OK\r\n\r\n"));
  ck_assert_str_eq(why, "not an HTTP/1.x reply (it starts 'HTTP/1.1 20x')");
  ck_assert(!parse("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n"));
  ck_assert_str_eq(why, "bad Content-Length '12x'");
  ck_assert(!parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"));
  ck_assert_str_eq(why, "bad Content-Length '99999999999999999999999'");
  ck_assert(!parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"));
  ck_assert_str_eq(why, "bad Content-Length '6'");
  ck_assert(!parse("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"));
  ck_assert_str_eq(why, "bad Content-Length ''");
  ck_assert(!parse("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"));
  ck_assert_str_eq(why, "bad header line 'no colon here'");
  ck_assert(!parse("HTTP/1.1 200 OK\r\nA: b\r\n"));
  ck_assert_str_eq(why, "the head does not end with a blank line");
  ck_assert(!parse("HTTP/1.1 200 OK"));
  ck_assert_str_eq(why, "the status line does not end");
}
END_TEST

/* --- one exchange with a scripted server ------------------------------------------------ */

/* A server on 127.0.0.1 that takes one connection, reads the request head (and the body its
 * Content-Length announces), hands the request back through a pipe, waits delay_ms, sends
 * reply and closes. */
struct script {
  struct control_listen where;
  pid_t pid;
  int request_fd;   /* read end: the request as the server got it */
};

static void script_start(struct script *s, const char *reply, size_t reply_len,
                         unsigned delay_ms)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof(sin);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int pipefd[2];
  char text[32], err[200];

  ck_assert_int_ge(lfd, 0);
  ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
  ck_assert_int_eq(listen(lfd, 1), 0);
  ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
  snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sin.sin_port));
  ck_assert(control_parse_listen(text, &s->where, err, sizeof(err)));
  ck_assert_int_eq(pipe(pipefd), 0);

  s->pid = fork();
  ck_assert_int_ge(s->pid, 0);
  if (s->pid == 0) {
    char req[4096];
    size_t got = 0;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
      _exit(1);
    for (;;) {
      ssize_t n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
      if (n <= 0)
        break;
      got += (size_t)n;
      req[got] = '\0';
      char *end = strstr(req, "\r\n\r\n");
      const char *cl = strstr(req, "Content-Length: ");
      if (end != NULL && (cl == NULL || got >= (size_t)(end + 4 - req) + strtoul(cl + 16, NULL, 10)))
        break;
    }
    if (write(pipefd[1], req, got) != (ssize_t)got)
      _exit(1);
    close(pipefd[1]);
    usleep(delay_ms * 1000u);
    if (reply_len > 0 && send(fd, reply, reply_len, MSG_NOSIGNAL) != (ssize_t)reply_len)
      _exit(1);
    close(fd);
    _exit(0);
  }
  close(lfd);
  close(pipefd[1]);
  s->request_fd = pipefd[0];
}

/* The request the server got; ends the server. */
static char *script_finish(struct script *s)
{
  static char req[4096];
  size_t got = 0;
  ssize_t n;
  while ((n = read(s->request_fd, req + got, sizeof(req) - 1 - got)) > 0)
    got += (size_t)n;
  req[got] = '\0';
  close(s->request_fd);
  kill(s->pid, SIGKILL);   /* a server still asleep in its delay */
  waitpid(s->pid, NULL, 0);
  return req;
}

static struct script server;
static struct ctl_http_reply reply;
static char err[512];

#define REPLY(text) script_start(&server, text, sizeof(text) - 1, 0)

static bool exchange(const char *method, const char *path, const char *json, size_t max_body,
                     int timeout_ms)
{
  err[0] = '\0';
  return ctl_http_exchange(&server.where, method, path, json, max_body, timeout_ms, &reply,
                           err, sizeof(err));
}

START_TEST(get_exact_request)
{
  char want[256];
  REPLY("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n"
        "{\"a\":[1]}");
  ck_assert_msg(exchange("GET", "/api/status", NULL, 1024, 2000), "%s", err);
  const char *req = script_finish(&server);
  /* Host names the server by the address it listens on: iapd's Host check wants that. */
  snprintf(want, sizeof(want), "GET /api/status HTTP/1.1\r\nHost: %s\r\n"
           "User-Agent: iapctl/%s\r\nAccept: */*\r\nConnection: close\r\n\r\n",
           server.where.text, PACKAGE_VERSION);
  ck_assert_str_eq(req, want);
  ck_assert_int_eq(reply.head.status, 200);
  ck_assert_str_eq(reply.head.content_type, "application/json");
  ck_assert_uint_eq(reply.body_len, 9);
  ck_assert_str_eq(reply.body, "{\"a\":[1]}");
  ctl_http_reply_free(&reply);
}
END_TEST

START_TEST(post_exact_request)
{
  char want[256];
  REPLY("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
  ck_assert_msg(exchange("POST", "/api/reset", "{\"key\":true}", 1024, 2000), "%s", err);
  const char *req = script_finish(&server);
  snprintf(want, sizeof(want), "POST /api/reset HTTP/1.1\r\nHost: %s\r\n"
           "User-Agent: iapctl/%s\r\nAccept: */*\r\nConnection: close\r\n"
           "Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"key\":true}",
           server.where.text, PACKAGE_VERSION);
  ck_assert_str_eq(req, want);
  ck_assert_str_eq(reply.body, "{}");
  ctl_http_reply_free(&reply);
}
END_TEST

START_TEST(error_status_is_a_reply)
{
  REPLY("HTTP/1.1 403 Forbidden\r\nContent-Length: 16\r\n\r\n{\"error\":\"no\"}\r\n");
  ck_assert_msg(exchange("GET", "/api/status", NULL, 1024, 2000), "%s", err);
  script_finish(&server);
  ck_assert_int_eq(reply.head.status, 403);
  ck_assert_str_eq(reply.head.reason, "Forbidden");
  ck_assert_str_eq(reply.body, "{\"error\":\"no\"}\r\n");
  ctl_http_reply_free(&reply);
}
END_TEST

START_TEST(body_to_the_end_without_length)
{
  REPLY("HTTP/1.0 200 OK\r\n\r\n0123456789");
  ck_assert_msg(exchange("GET", "/x", NULL, 10, 2000), "%s", err);
  script_finish(&server);
  ck_assert_uint_eq(reply.body_len, 10);
  ck_assert_str_eq(reply.body, "0123456789");
  ctl_http_reply_free(&reply);

  REPLY("HTTP/1.0 200 OK\r\n\r\n0123456789A");
  ck_assert(!exchange("GET", "/x", NULL, 10, 2000));
  script_finish(&server);
  ck_assert_ptr_null(reply.body);
  char want[200];
  snprintf(want, sizeof(want), "the reply of %s to GET /x is more than the 10 bytes expected",
           server.where.text);
  ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(replies_refused)
{
  char want[300];

  REPLY("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789A");
  ck_assert(!exchange("GET", "/api/flash", NULL, 10, 2000));
  script_finish(&server);
  snprintf(want, sizeof(want), "the reply of %s to GET /api/flash is 11 bytes, more than the "
           "10 expected", server.where.text);
  ck_assert_str_eq(err, want);

  REPLY("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
  ck_assert(!exchange("GET", "/api/flash", NULL, 10, 2000));
  script_finish(&server);
  snprintf(want, sizeof(want), "%s closed the connection after 5 of the 10 bytes of its reply "
           "to GET /api/flash", server.where.text);
  ck_assert_str_eq(err, want);

  REPLY("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n0123");
  ck_assert(!exchange("GET", "/x", NULL, 10, 2000));
  script_finish(&server);
  snprintf(want, sizeof(want), "the reply of %s to GET /x is longer than its Content-Length",
           server.where.text);
  ck_assert_str_eq(err, want);

  REPLY("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  ck_assert(!exchange("GET", "/x", NULL, 10, 2000));
  script_finish(&server);
  snprintf(want, sizeof(want), "the reply of %s to GET /x has a transfer coding; iapctl reads "
           "replies with a Content-Length: is this iapd's control server?", server.where.text);
  ck_assert_str_eq(err, want);

  REPLY("SSH-2.0-OpenSSH_9.2p1\r\n\r\n");
  ck_assert(!exchange("GET", "/x", NULL, 10, 2000));
  script_finish(&server);
  snprintf(want, sizeof(want), "bad reply from %s to GET /x: not an HTTP/1.x reply (it starts "
           "'SSH-2.0-Open')", server.where.text);
  ck_assert_str_eq(err, want);

  REPLY("HTTP/1.1 200 OK\r\nContent-Le");
  ck_assert(!exchange("GET", "/x", NULL, 10, 2000));
  script_finish(&server);
  snprintf(want, sizeof(want), "%s closed the connection before it replied to GET /x",
           server.where.text);
  ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(head_over_16k_refused)
{
  size_t n = CTL_HTTP_HEAD_MAX + 100;
  char *big = malloc(n);
  ck_assert_ptr_nonnull(big);
  memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
  memset(big + 20, 'x', n - 20);
  script_start(&server, big, n, 0);
  ck_assert(!exchange("GET", "/x", NULL, 10, 2000));
  script_finish(&server);
  free(big);
  char want[300];
  snprintf(want, sizeof(want), "the reply of %s to GET /x has a head over 16384 bytes: is this "
           "iapd's control server?", server.where.text);
  ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(no_reply_in_time)
{
  char want[200];
  /* The server takes the request and answers after 3 s; the client gives it 0.2 s. */
  script_start(&server, "HTTP/1.1 200 OK\r\n\r\n", 19, 3000);
  ck_assert(!exchange("GET", "/api/status", NULL, 10, 200));
  script_finish(&server);
  snprintf(want, sizeof(want), "no reply from %s to GET /api/status within 0.2 s",
           server.where.text);
  ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(connection_refused)
{
  /* A port just bound and closed again: nothing listens there. */
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof(sin);
  char text[32], want[200], why_listen[200];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
  close(fd);
  snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sin.sin_port));
  ck_assert(control_parse_listen(text, &server.where, why_listen, sizeof(why_listen)));
  ck_assert(!exchange("GET", "/api/status", NULL, 10, 2000));
  snprintf(want, sizeof(want), "cannot connect to %s: Connection refused: is iapd running, "
           "with --control?", text);
  ck_assert_str_eq(err, want);
}
END_TEST

/* --- the status in words ----------------------------------------------------------------- */

static const char *const iap_status =
  "{\"board\":{\"mode\":\"iap\",\"reason\":\"no application\","
  "\"detail\":\"no application at 0x08010000 (erased)\",\"key_held\":false,"
  "\"application\":null,\"uptime_ms\":1234},"
  "\"network\":{\"backend\":\"tap\",\"interface\":\"tap0\",\"mac\":\"00:00:00:00:00:02\","
  "\"ip\":\"192.168.0.10\",\"netmask\":\"255.255.255.0\",\"gateway\":\"192.168.0.1\","
  "\"address_source\":\"static\",\"up\":true,\"rx_frames\":7,\"tx_frames\":5},"
  "\"transfer\":null,\"flash\":{\"size\":1048576}}";

/* The lines ctl_status_print writes for the JSON text, or the error of ctl_status_read
 * prefixed with "error: ". */
static char *words(const char *json_text, bool describe)
{
  static char out[2048];
  json_error_t error;
  struct ctl_status s;
  char why_read[200];
  json_t *v = json_loads(json_text, 0, &error);
  ck_assert_msg(v != NULL, "test JSON: %s", error.text);
  FILE *f = fmemopen(out, sizeof(out), "w");
  ck_assert_ptr_nonnull(f);
  if (!ctl_status_read(v, &s, why_read, sizeof(why_read)))
    fprintf(f, "error: %s", why_read);
  else if (describe)
    ctl_status_describe(f, &s);
  else
    ctl_status_print(f, &s);
  fclose(f);
  json_decref(v);
  return out;
}

/* base with the text from replaced by to, into out. */
static const char *replaced(const char *base, const char *from, const char *to, char *out,
                            size_t size)
{
  const char *at = strstr(base, from);
  ck_assert_msg(at != NULL, "'%s' not in the test JSON", from);
  int n = snprintf(out, size, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
  ck_assert(n > 0 && (size_t)n < size);
  return out;
}

#define IAP_BOARD "\"mode\":\"iap\",\"reason\":\"no application\"," \
  "\"detail\":\"no application at 0x08010000 (erased)\",\"key_held\":false," \
  "\"application\":null"
#define APP_BOARD "\"mode\":\"application\",\"reason\":\"valid application\"," \
  "\"detail\":\"valid application at 0x08010000\",\"key_held\":false," \
  "\"application\":{\"msp\":\"0x20020000\",\"pc\":\"0x080101c1\"}"

START_TEST(status_lines_iap)
{
  ck_assert_str_eq(words(iap_status, false),
                   "mode:      iap\n"
                   "reason:    no application\n"
                   "detail:    no application at 0x08010000 (erased)\n"
                   "address:   192.168.0.10 netmask 255.255.255.0 gateway 192.168.0.1 (static)\n"
                   "transfer:  none\n");
  ck_assert_str_eq(words(iap_status, true),
                   "is in IAP mode: no application at 0x08010000 (erased)");
}
END_TEST

START_TEST(status_lines_application_and_transfer)
{
  char app[2048], down[2048], text[2048];
  replaced(iap_status, IAP_BOARD, APP_BOARD, app, sizeof(app));
  replaced(app, "\"up\":true", "\"up\":false", down, sizeof(down));
  ck_assert_str_eq(words(down, false),
                   "mode:      application, MSP=0x20020000 PC=0x080101c1\n"
                   "reason:    valid application\n"
                   "detail:    valid application at 0x08010000\n"
                   "address:   192.168.0.10 netmask 255.255.255.0 gateway 192.168.0.1 "
                   "(static), interface down\n"
                   "transfer:  none\n");
  ck_assert_str_eq(words(down, true), "runs the application: MSP=0x20020000 PC=0x080101c1");

  replaced(iap_status, "\"transfer\":null",
           "\"transfer\":{\"protocol\":\"TFTP\",\"peer\":\"192.168.0.1:37713\",\"bytes\":5120,"
           "\"expected_bytes\":20000,\"percent\":25,\"rate_bytes_per_s\":2560,"
           "\"elapsed_ms\":2000}", text, sizeof(text));
  tl_assert_contains(words(text, false), "(static)\n"
                     "transfer:  TFTP from 192.168.0.1:37713, 5120 of 20000 bytes (25%), "
                     "2560 bytes/s\n");
  replaced(iap_status, "\"transfer\":null",
           "\"transfer\":{\"protocol\":\"HTTP\",\"peer\":\"192.168.0.1:40000\",\"bytes\":512,"
           "\"expected_bytes\":null,\"percent\":null,\"rate_bytes_per_s\":0,"
           "\"elapsed_ms\":0}", text, sizeof(text));
  tl_assert_contains(words(text, false), "(static)\n"
                     "transfer:  HTTP from 192.168.0.1:40000, 512 bytes, 0 bytes/s\n");
}
END_TEST

START_TEST(status_control_characters_shown_as_question_marks)
{
  char text[2048];
  /* ESC [ 2 J would clear the screen; U+0085 is a C1 control (NEL); U+00E9 stays. */
  replaced(iap_status, "\"detail\":\"no application at 0x08010000 (erased)\"",
           "\"detail\":\"a\\u001b[2Jb\\u0085c\\u007fd\\tE\\u00e9\"", text, sizeof(text));
  tl_assert_contains(words(text, false), "detail:    a?[2Jb?c?d?E\xc3\xa9\n");
}
END_TEST

START_TEST(status_not_what_iapctl_reads)
{
  char text[2048];
  ck_assert_str_eq(words("{}", false), "error: Object item not found: board");
  ck_assert_str_eq(words(replaced(iap_status, "\"mode\":\"iap\"", "\"mode\":\"off\"", text,
                                  sizeof(text)), false),
                   "error: board.mode is \"off\", neither \"iap\" nor \"application\"");
  ck_assert_str_eq(words(replaced(iap_status, "\"up\":true", "\"up\":1", text, sizeof(text)),
                         false),
                   "error: Expected true or false, got integer");
  char app[2048];
  replaced(iap_status, IAP_BOARD, APP_BOARD, app, sizeof(app));
  ck_assert_str_eq(words(replaced(app, "\"pc\":\"0x080101c1\"", "\"pc\":null", text,
                                  sizeof(text)), false),
                   "error: board.application: Expected string, got null");
  ck_assert_str_eq(words(replaced(iap_status, "\"transfer\":null", "\"transfer\":{}", text,
                                  sizeof(text)), false),
                   "error: transfer: Object item not found: protocol");
}
END_TEST

static Suite *iapctl_suite(void)
{
  Suite *s = suite_create("iapctl");
  TCase *tc = tcase_create("parts");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, head_ok);
  tcase_add_test(tc, head_refused);
  tcase_add_test(tc, get_exact_request);
  tcase_add_test(tc, post_exact_request);
  tcase_add_test(tc, error_status_is_a_reply);
  tcase_add_test(tc, body_to_the_end_without_length);
  tcase_add_test(tc, replies_refused);
  tcase_add_test(tc, head_over_16k_refused);
  tcase_add_test(tc, no_reply_in_time);
  tcase_add_test(tc, connection_refused);
  tcase_add_test(tc, status_lines_iap);
  tcase_add_test(tc, status_lines_application_and_transfer);
  tcase_add_test(tc, status_control_characters_shown_as_question_marks);
  tcase_add_test(tc, status_not_what_iapctl_reads);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(iapctl_suite());
}
