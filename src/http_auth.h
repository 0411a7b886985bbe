/*
 * Who may upload: the user name and password of the board (AN3376's "user"/"stm32" by
 * default), login sessions, and the brake on guessing. What it promises:
 *  - credentials are compared in constant time (http_equal_const_time), the user name and the
 *    password both, always;
 *  - a session is a random token of HTTP_SESSION_TOKEN_BYTES from the board's RNG
 *    (the board's random op), never a counter nor a global "logged in" flag: a client without
 *    the token has no session, whoever else logged in;
 *  - a session ends after session_timeout_ms without use, at logout, or when a newer login
 *    needs its slot (least recently used first);
 *  - after HTTP_THROTTLE_FREE_FAILURES failed logins in a row (form or Basic auth alike),
 *    each further attempt must wait, twice as long after each failure, up to
 *    HTTP_THROTTLE_MAX_MS; attempts during the wait are refused without being checked.
 * Time comes in as now_ms (any wrapping millisecond clock).
 */
#ifndef IAPD_HTTP_AUTH_H
#define IAPD_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "http_opts.h"

#define HTTP_TOKEN_HEX_LEN (2 * HTTP_SESSION_TOKEN_BYTES)

struct http_session {
  bool used;
  char token[HTTP_TOKEN_HEX_LEN + 1];
  uint32_t last_used_ms;
};

struct http_auth {
  const struct board *board;  /* its RNG makes the session tokens */
  char user[HTTP_USER_MAX + 1];
  char password[HTTP_PASSWORD_MAX + 1];
  uint32_t session_timeout_ms;
  struct http_session sessions[HTTP_SESSION_MAX];
  unsigned failures;          /* failed logins in a row */
  uint32_t retry_at_ms;       /* with failures past the free ones: no attempt before */
};

enum http_login { HTTP_LOGIN_OK, HTTP_LOGIN_WRONG, HTTP_LOGIN_THROTTLED };

/* user and password are cut to HTTP_USER_MAX / HTTP_PASSWORD_MAX bytes; board (whose random
 * op makes the tokens) must outlive a. */
void http_auth_init(struct http_auth *a, const struct board *board, const char *user,
                    const char *password, uint32_t session_timeout_ms);

/* Checks a login. THROTTLED sets *wait_ms to the time left before the next attempt counts. */
enum http_login http_auth_login(struct http_auth *a, const char *user, const char *password,
                                uint32_t now_ms, uint32_t *wait_ms);

/* Checks an Authorization header value "Basic base64(user:password)" (RFC 7617) as a login.
 * A missing or malformed header is WRONG without counting as a failure. */
enum http_login http_auth_basic(struct http_auth *a, const char *authorization,
                                uint32_t now_ms, uint32_t *wait_ms);

/* Opens a session and writes its token (hex, NUL-terminated) into token. False when the
 * board has no random source. */
bool http_auth_session_open(struct http_auth *a, uint32_t now_ms,
                            char token[HTTP_TOKEN_HEX_LEN + 1]);

/* True when token names a live session; the session's idle time starts again. */
bool http_auth_session_valid(struct http_auth *a, const char *token, uint32_t now_ms);

/* Ends the session named by token, if any. */
void http_auth_session_close(struct http_auth *a, const char *token);

/* Sessions alive at now_ms. */
unsigned http_auth_session_count(struct http_auth *a, uint32_t now_ms);

#endif
