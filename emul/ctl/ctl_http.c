/* One HTTP/1.1 exchange over TCP with deadlines (see ctl_http.h). */
#include "config.h"

#include "ctl_http.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock_posix.h"

#define REQUEST_MAX 1024u   /* our own request: a path, a Host and a small JSON body */

/* --- the reply head ---------------------------------------------------------------------- */

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* A header value without the blanks around it (RFC 9110, 5.5: OWS). */
static void trim_value(const char **value, const char **end)
{
  while (*value < *end && (**value == ' ' || **value == '\t'))
    (*value)++;
  while (*end > *value && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
    (*end)--;
}

static bool parse_length(const char *p, const char *end, size_t *out)
{
  size_t v = 0;
  if (p == end)
    return false;
  for (; p < end; p++) {
    if (!is_digit(*p) || v > (SIZE_MAX - 9u) / 10u)
      return false;
    v = v * 10u + (size_t)(*p - '0');
  }
  *out = v;
  return true;
}

static void copy_cut(char *dst, size_t size, const char *p, const char *end)
{
  size_t n = (size_t)(end - p) < size - 1 ? (size_t)(end - p) : size - 1;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

static bool header_is(const char *name, size_t len, const char *want)
{
  return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

bool ctl_http_parse_head(const char *text, size_t len, struct ctl_http_head *out, char *why,
                         size_t why_size)
{
  const char *p = text, *end = text + len;

  memset(out, 0, sizeof(*out));
  /* The status line (RFC 9112, 4): HTTP/1.x SP 3DIGIT SP reason. */
  if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit(p[7]) || p[8] != ' ' ||
      !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11])) {
    snprintf(why, why_size, "not an HTTP/1.x reply (it starts '%.12s')", text);
    return false;
  }
  out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  p += 12;
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  if (eol == NULL) {
    snprintf(why, why_size, "the status line does not end");
    return false;
  }
  const char *reason = p < eol && *p == ' ' ? p + 1 : p;
  const char *reason_end = eol > reason && eol[-1] == '\r' ? eol - 1 : eol;
  copy_cut(out->reason, sizeof(out->reason), reason, reason_end);
  p = eol + 1;

  /* Header lines up to the blank line. Each pass consumes one line: bounded by len. */
  while (p < end) {
    eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL) {
      snprintf(why, why_size, "a header line does not end");
      return false;
    }
    const char *line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    if (line_end == p)
      return true;                          /* the blank line: the head is complete */
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon == NULL || colon == p) {
      int shown = line_end - p > 40 ? 40 : (int)(line_end - p);
      snprintf(why, why_size, "bad header line '%.*s'", shown, p);
      return false;
    }
    size_t name_len = (size_t)(colon - p);
    const char *value = colon + 1, *value_end = line_end;
    trim_value(&value, &value_end);
    if (header_is(p, name_len, "Content-Length")) {
      size_t n;
      bool ok = parse_length(value, value_end, &n);
      if (!ok || (out->has_length && n != out->content_length)) {
        int shown = value_end - value > 24 ? 24 : (int)(value_end - value);
        snprintf(why, why_size, "bad Content-Length '%.*s'", shown, value);
        return false;
      }
      out->has_length = true;
      out->content_length = n;
    } else if (header_is(p, name_len, "Transfer-Encoding")) {
      /* Any coding but identity: the body is not the bytes as sent. */
      if (!(value_end - value == 8 && strncasecmp(value, "identity", 8) == 0))
        out->chunked = true;
    } else if (header_is(p, name_len, "Content-Type")) {
      copy_cut(out->content_type, sizeof(out->content_type), value, value_end);
    }
    p = eol + 1;
  }
  snprintf(why, why_size, "the head does not end with a blank line");
  return false;
}

/* --- the socket, with one deadline for everything ---------------------------------------- */

/* Milliseconds left before deadline_ms (clock_now_ms() time, which wraps: the difference
 * is taken as signed, right for any timeout under 24 days). */
static int ms_until(uint32_t deadline_ms)
{
  int32_t left = (int32_t)(deadline_ms - clock_now_ms());
  return left < 0 ? 0 : (int)left;
}

/* 1 when fd is ready for events, 0 when the deadline passed first, -1 with errno. A signal
 * only shortens a wait: the deadline does not move, so this ends. */
static int wait_fd(int fd, short events, uint32_t deadline_ms)
{
  for (;;) {
    struct pollfd pfd = { .fd = fd, .events = events };
    int r = poll(&pfd, 1, ms_until(deadline_ms));
    if (r > 0)
      return 1;       /* an error or hang-up too: the next call on fd says which */
    if (r == 0)
      return 0;
    if (errno != EINTR)
      return -1;
    if (ms_until(deadline_ms) == 0)
      return 0;
  }
}

/* Bytes read (> 0), 0 at the end of the connection, -1 with errno (ETIMEDOUT: deadline). */
static ssize_t recv_by(int fd, char *buf, size_t size, uint32_t deadline_ms)
{
  for (;;) {
    ssize_t n = recv(fd, buf, size, 0);
    if (n >= 0)
      return n;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return -1;
    int r = wait_fd(fd, POLLIN, deadline_ms);
    if (r <= 0) {
      if (r == 0)
        errno = ETIMEDOUT;
      return -1;
    }
  }
}

static bool send_by(int fd, const char *buf, size_t len, uint32_t deadline_ms)
{
  size_t sent = 0;
  while (sent < len) {
    ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return false;
    int r = wait_fd(fd, POLLOUT, deadline_ms);
    if (r <= 0) {
      if (r == 0)
        errno = ETIMEDOUT;
      return false;
    }
  }
  return true;
}

static double seconds(int timeout_ms)
{
  return timeout_ms / 1000.0;
}

/* A connected socket, or -1 with the reason in err. */
static int connect_by(const struct control_listen *where, uint32_t deadline_ms, int timeout_ms,
                      char *err, size_t err_size)
{
  int fd = socket(where->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, err_size, "cannot create a socket for %s: %s", where->text, strerror(errno));
    return -1;
  }
  int e = 0;
  if (connect(fd, (const struct sockaddr *)&where->addr, where->addr_len) != 0) {
    e = errno;
    if (e == EINPROGRESS) {
      int r = wait_fd(fd, POLLOUT, deadline_ms);
      socklen_t len = sizeof(e);
      if (r == 0) {
        snprintf(err, err_size, "cannot connect to %s: no answer within %g s", where->text,
                 seconds(timeout_ms));
        close(fd);
        return -1;
      }
      if (r < 0)
        e = errno;
      else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        e = errno;
    }
  }
  if (e != 0) {
    snprintf(err, err_size, "cannot connect to %s: %s%s", where->text, strerror(e),
             e == ECONNREFUSED ? ": is iapd running, with --control?" : "");
    close(fd);
    return -1;
  }
  return fd;
}

/* --- the exchange ------------------------------------------------------------------------- */

void ctl_http_reply_free(struct ctl_http_reply *reply)
{
  free(reply->body);
  memset(reply, 0, sizeof(*reply));
}

static bool read_failed(const struct control_listen *where, const char *method,
                        const char *path, int timeout_ms, char *err, size_t err_size)
{
  if (errno == ETIMEDOUT)
    snprintf(err, err_size, "no reply from %s to %s %s within %g s", where->text, method, path,
             seconds(timeout_ms));
  else
    snprintf(err, err_size, "reading the reply of %s to %s %s: %s", where->text, method, path,
             strerror(errno));
  return false;
}

/* The end of the blank line that ends a head, searched from from; NULL when not there yet. */
static const char *after_blank_line(const char *buf, size_t len, size_t from)
{
  for (size_t i = from; i + 4 <= len; i++)
    if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
      return buf + i + 4;
  return NULL;
}

/* The head, into head[CTL_HTTP_HEAD_MAX]; *got bytes read, *head_len of them the head. */
static bool read_head(int fd, const struct control_listen *where, const char *method,
                      const char *path, uint32_t deadline_ms, int timeout_ms, char *head,
                      size_t *got, size_t *head_len, char *err, size_t err_size)
{
  const char *body = NULL;
  *got = 0;
  /* Each pass reads at least one byte or returns: bounded by CTL_HTTP_HEAD_MAX. */
  while (body == NULL) {
    if (*got == CTL_HTTP_HEAD_MAX) {
      snprintf(err, err_size, "the reply of %s to %s %s has a head over %u bytes: is this "
               "iapd's control server?", where->text, method, path, CTL_HTTP_HEAD_MAX);
      return false;
    }
    ssize_t n = recv_by(fd, head + *got, CTL_HTTP_HEAD_MAX - *got, deadline_ms);
    if (n < 0)
      return read_failed(where, method, path, timeout_ms, err, err_size);
    if (n == 0) {
      snprintf(err, err_size, "%s closed the connection before it replied to %s %s",
               where->text, method, path);
      return false;
    }
    /* The blank line may straddle two reads: look again from 3 bytes back. */
    size_t from = *got > 3 ? *got - 3 : 0;
    *got += (size_t)n;
    body = after_blank_line(head, *got, from);
  }
  *head_len = (size_t)(body - head);
  return true;
}

static bool read_body(int fd, const struct control_listen *where, const char *method,
                      const char *path, uint32_t deadline_ms, int timeout_ms, size_t max_body,
                      struct ctl_http_reply *reply, const char *early, size_t early_len,
                      char *err, size_t err_size)
{
  const struct ctl_http_head *h = &reply->head;
  if (h->has_length && h->content_length > max_body) {
    snprintf(err, err_size, "the reply of %s to %s %s is %zu bytes, more than the %zu "
             "expected", where->text, method, path, h->content_length, max_body);
    return false;
  }
  /* Without a length the body ends with the connection; one byte of room past max_body
   * tells a body of max_body bytes from a longer one. */
  size_t room = h->has_length ? h->content_length : max_body + 1;
  reply->body = malloc(room + 1);
  if (reply->body == NULL) {
    snprintf(err, err_size, "out of memory for a reply of %zu bytes", room);
    return false;
  }
  if (early_len > room) {
    snprintf(err, err_size, "the reply of %s to %s %s is longer than its Content-Length",
             where->text, method, path);
    return false;
  }
  memcpy(reply->body, early, early_len);
  reply->body_len = early_len;
  /* Each pass reads at least one byte or ends: bounded by room. */
  while (reply->body_len < room) {
    ssize_t n = recv_by(fd, reply->body + reply->body_len, room - reply->body_len,
                        deadline_ms);
    if (n < 0)
      return read_failed(where, method, path, timeout_ms, err, err_size);
    if (n == 0)
      break;
    reply->body_len += (size_t)n;
  }
  reply->body[reply->body_len] = '\0';
  if (h->has_length && reply->body_len < h->content_length) {
    snprintf(err, err_size, "%s closed the connection after %zu of the %zu bytes of its reply "
             "to %s %s", where->text, reply->body_len, h->content_length, method, path);
    return false;
  }
  if (!h->has_length && reply->body_len > max_body) {
    snprintf(err, err_size, "the reply of %s to %s %s is more than the %zu bytes expected",
             where->text, method, path, max_body);
    return false;
  }
  return true;
}

bool ctl_http_exchange(const struct control_listen *where, const char *method,
                       const char *path, const char *json, size_t max_body, int timeout_ms,
                       struct ctl_http_reply *reply, char *err, size_t err_size)
{
  char request[REQUEST_MAX];
  char head[CTL_HTTP_HEAD_MAX];
  char why[160];
  size_t got = 0, head_len = 0;
  int n;

  memset(reply, 0, sizeof(*reply));
  /* Host names the server as iapd's Host check wants it: by the address it listens on. */
  n = snprintf(request, sizeof(request),
               "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: iapctl/%s\r\nAccept: */*\r\n"
               "Connection: close\r\n", method, path, where->text, PACKAGE_VERSION);
  if (n > 0 && (size_t)n < sizeof(request))
    n += json != NULL
      ? snprintf(request + n, sizeof(request) - (size_t)n, "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s", strlen(json), json)
      : snprintf(request + n, sizeof(request) - (size_t)n, "\r\n");
  if (n < 0 || (size_t)n >= sizeof(request)) {
    snprintf(err, err_size, "%s %s: request too long", method, path);
    return false;
  }

  uint32_t deadline_ms = clock_now_ms() + (uint32_t)timeout_ms;
  int fd = connect_by(where, deadline_ms, timeout_ms, err, err_size);
  if (fd < 0)
    return false;
  bool ok = false;
  if (!send_by(fd, request, (size_t)n, deadline_ms)) {
    if (errno == ETIMEDOUT)
      snprintf(err, err_size, "%s took no request within %g s", where->text,
               seconds(timeout_ms));
    else
      snprintf(err, err_size, "sending %s %s to %s: %s", method, path, where->text,
               strerror(errno));
  } else if (read_head(fd, where, method, path, deadline_ms, timeout_ms, head, &got,
                       &head_len, err, err_size)) {
    if (!ctl_http_parse_head(head, head_len, &reply->head, why, sizeof(why)))
      snprintf(err, err_size, "bad reply from %s to %s %s: %s", where->text, method, path,
               why);
    else if (reply->head.chunked)
      snprintf(err, err_size, "the reply of %s to %s %s has a transfer coding; iapctl reads "
               "replies with a Content-Length: is this iapd's control server?", where->text,
               method, path);
    else
      ok = read_body(fd, where, method, path, deadline_ms, timeout_ms, max_body, reply,
                     head + head_len, got - head_len, err, err_size);
  }
  close(fd);
  if (!ok)
    ctl_http_reply_free(reply);
  return ok;
}
