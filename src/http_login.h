/*
 * Who the client is, as the HTTP server answers it: the browser's way in (the login page,
 * POST /checklogin.cgi, the upload page a login leads to, logout) and the checks the guarded
 * routes make (the session cookie for the pages, HTTP Basic auth for the script endpoint).
 * The rules themselves, constant-time compares, random tokens and the brake on guessing, are
 * http_auth.h's; this module turns them into answers. What it promises:
 *  - a login form longer than HTTP_FORM_MAX bytes gets 413, announced or not;
 *  - the form, password included, is wiped from the connection once it is checked;
 *  - the session cookie is HttpOnly and SameSite=Strict, so no other site's page can use it;
 *    logout ends the session and clears the cookie;
 *  - without a live session a guarded page is the login page with 403; throttled attempts
 *    get 429 with Retry-After in whole seconds.
 */
#ifndef IAPD_HTTP_LOGIN_H
#define IAPD_HTTP_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_opts.h"

/* POST /checklogin.cgi: the urlencoded form, read whole before it is checked. */
struct http_login_state {
  char form[HTTP_FORM_MAX];
  size_t form_len;
};

struct http_conn;

/* Routes (http_routes.c). */
void http_login_page(struct http_conn *c, uint32_t now_ms);         /* GET /, /login.html */
void http_login_check(struct http_conn *c, uint32_t now_ms);        /* POST /checklogin.cgi */
void http_login_upload_page(struct http_conn *c, uint32_t now_ms);  /* GET /upload.html */
void http_login_logout(struct http_conn *c, uint32_t now_ms);       /* POST /logout.cgi */

/* The form's bytes as they arrive, and its end: the check and its answer. */
void http_login_body(struct http_conn *c, const uint8_t *data, size_t len);
void http_login_done(struct http_conn *c, uint32_t now_ms);

/* For the guarded routes: true when the request's cookie names a live session (whose idle
 * time starts again). */
bool http_login_has_session(struct http_conn *c, uint32_t now_ms);

/* The 403 login page for a request without a session. early: before its body was read (the
 * body is dropped and the connection closes, as for any early answer). */
void http_login_refuse(struct http_conn *c, bool early);

/* HTTP Basic auth (RFC 7617) of the request as a login. False when it failed: then the
 * request is answered already (401 with WWW-Authenticate, or 429), as an early answer. */
bool http_login_basic(struct http_conn *c, uint32_t now_ms);

#endif
