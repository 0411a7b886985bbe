/*
 * One HTTP/1.1 exchange with the control server, over a plain TCP socket: connect, send one
 * request with "Connection: close", read the whole reply. What it promises:
 *  - it never waits longer than the timeout it is given, for connecting, sending or reading;
 *  - it holds at most max_body bytes of body (and 16 KiB of head): a longer reply is an
 *    error, never a cut-short body;
 *  - every failure is a sentence in err that names the server and what to check.
 * The control server (emul/control/control.c) answers with a Content-Length; a reply without
 * one is read to the end of the connection, a chunked one is refused.
 */
#ifndef IAPD_CTL_HTTP_H
#define IAPD_CTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "control_api.h"

#define CTL_HTTP_HEAD_MAX (16u * 1024u)

/* What the status line and the headers say. */
struct ctl_http_head {
  int status;                   /* 200 */
  char reason[64];              /* "OK", as sent, cut to fit */
  char content_type[64];        /* "" when absent */
  bool has_length;
  size_t content_length;
  bool chunked;
};

struct ctl_http_reply {
  struct ctl_http_head head;
  char *body;                   /* malloc'd, NUL-terminated (the body may hold NULs too) */
  size_t body_len;
};

/* Parses a reply head: the status line and the header lines, len bytes ending with the
 * blank line. False with a sentence in why when it is not HTTP/1.x or a header is bad. */
bool ctl_http_parse_head(const char *text, size_t len, struct ctl_http_head *out, char *why,
                         size_t why_size);

/* METHOD PATH to the server at where, with Host: where->text, and for a POST the JSON body
 * json (NULL for none). False with a message in err; true with the reply, whatever its
 * status, in *reply (free it with ctl_http_reply_free). */
bool ctl_http_exchange(const struct control_listen *where, const char *method,
                       const char *path, const char *json, size_t max_body, int timeout_ms,
                       struct ctl_http_reply *reply, char *err, size_t err_size);

void ctl_http_reply_free(struct ctl_http_reply *reply);

#endif
