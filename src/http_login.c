/* Login, sessions and Basic auth as HTTP answers (see http_login.h). */
#include "http_login.h"

#include <string.h>

#include "http_auth.h"
#include "http_core.h"
#include "http_response.h"
#include "http_text.h"
#include "iap_format.h"
#include "log.h"

/* RFC 7617 2: the challenge of a 401, with the charset the server decodes credentials in. */
#define BASIC_CHALLENGE "WWW-Authenticate: Basic realm=\"iapd\", charset=\"UTF-8\"\r\n"

/* The Retry-After header of a throttled login into extra; returns its seconds. It counts
 * whole seconds (RFC 7231 7.1.3): the wait is rounded up, never down to 0. */
static unsigned retry_after(uint32_t wait_ms, char extra[HTTP_EXTRA_MAX])
{
  unsigned s = (unsigned)((wait_ms + 999u) / 1000u);
  iap_snprintf(extra, HTTP_EXTRA_MAX, "Retry-After: %u\r\n", s);
  return s;
}

static void login_page(struct http_conn *c, int status, const char *message, const char *extra)
{
  http_send_page(c, status, "/login.html", message, extra);
}

static void upload_page(struct http_conn *c, const char *extra)
{
  const struct http_server_config *cfg = &c->app->cfg;
  char text[160];
  iap_snprintf(text, sizeof(text), "Images up to %u bytes (%u KiB) fit the user flash at 0x%08x.",
           (unsigned)cfg->user_flash_size, (unsigned)(cfg->user_flash_size / 1024u),
           (unsigned)cfg->user_flash_base);
  http_send_page(c, 200, "/upload.html", text, extra);
}

bool http_login_has_session(struct http_conn *c, uint32_t now_ms)
{
  const char *token = c->parser.req.session;
  return token[0] != '\0' && http_auth_session_valid(&c->app->auth, token, now_ms);
}

void http_login_refuse(struct http_conn *c, bool early)
{
  if (early)
    http_conn_answer_early(c);
  login_page(c, 403, "Please log in first (no session, or it expired).", NULL);
  if (early)
    http_conn_end_early(c);
}

/* --- routes --------------------------------------------------------------------------------- */

void http_login_page(struct http_conn *c, uint32_t now_ms)
{
  (void)now_ms;
  login_page(c, 200, "", NULL);
}

void http_login_upload_page(struct http_conn *c, uint32_t now_ms)
{
  if (http_login_has_session(c, now_ms))
    upload_page(c, NULL);
  else
    http_login_refuse(c, false);
}

void http_login_check(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  (void)now_ms;
  if (r->has_content_length && r->content_length > HTTP_FORM_MAX) {
    http_conn_early_error(c, 413, "login form too large", NULL);
    return;
  }
  c->handler = HTTP_H_LOGIN;
  c->login.form_len = 0;
  http_send_continue(c);
}

void http_login_logout(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  (void)now_ms;
  if (r->session[0] != '\0')
    http_auth_session_close(&c->app->auth, r->session);
  login_page(c, 200, "You are logged out.",
             "Set-Cookie: " HTTP_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
             "SameSite=Strict\r\n");
}

/* --- the form ------------------------------------------------------------------------------- */

void http_login_body(struct http_conn *c, const uint8_t *data, size_t len)
{
  struct http_login_state *s = &c->login;
  /* A chunked form announces no length: its size is checked as it arrives. */
  if (len > sizeof(s->form) - s->form_len) {
    http_conn_early_error(c, 413, "login form too large", NULL);
    return;
  }
  memcpy(s->form + s->form_len, data, len);
  s->form_len += len;
}

void http_login_done(struct http_conn *c, uint32_t now_ms)
{
  struct http_login_state *s = &c->login;
  char user[HTTP_USER_MAX + 2] = "";
  char password[HTTP_PASSWORD_MAX + 2] = "";
  char token[HTTP_TOKEN_HEX_LEN + 1];
  char extra[HTTP_EXTRA_MAX];
  uint32_t wait_ms;

  /* An absent or oversized field is an empty one: wrong, like any other. */
  if (!http_form_field(s->form, s->form_len, "username", user, sizeof(user)))
    user[0] = '\0';
  if (!http_form_field(s->form, s->form_len, "password", password, sizeof(password)))
    password[0] = '\0';
  enum http_login result = http_auth_login(&c->app->auth, user, password, now_ms, &wait_ms);
  memset(password, 0, sizeof(password));
  memset(s->form, 0, sizeof(s->form));
  switch (result) {
  case HTTP_LOGIN_OK:
    if (!http_auth_session_open(&c->app->auth, now_ms, token)) {
      log_err("http", "no random source for a session token");
      login_page(c, 503, "The board has no random source for a session; try again.", NULL);
      return;
    }
    log_info("http", "login from %s", c->peer);
    iap_snprintf(extra, sizeof(extra),
             "Set-Cookie: " HTTP_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict\r\n",
             token);
    upload_page(c, extra);
    return;
  case HTTP_LOGIN_WRONG:
    log_warn("http", "failed login from %s", c->peer);
    login_page(c, 403, "Wrong user ID or password.", NULL);
    return;
  case HTTP_LOGIN_THROTTLED: {
    char text[120];
    iap_snprintf(text, sizeof(text), "Too many failed logins: try again in %u s.",
             retry_after(wait_ms, extra));
    login_page(c, 429, text, extra);
    return;
  }
  }
}

/* --- scripts -------------------------------------------------------------------------------- */

bool http_login_basic(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  char extra[HTTP_EXTRA_MAX];
  char msg[120];
  uint32_t wait_ms;

  if (r->authorization[0] == '\0') {
    http_conn_early_error(c, 401, "authentication required (HTTP Basic: curl -u user:password)",
                          BASIC_CHALLENGE);
    return false;
  }
  switch (http_auth_basic(&c->app->auth, r->authorization, now_ms, &wait_ms)) {
  case HTTP_LOGIN_OK:
    return true;
  case HTTP_LOGIN_WRONG:
    log_warn("http", "failed Basic auth from %s", c->peer);
    http_conn_early_error(c, 401, "wrong user or password", BASIC_CHALLENGE);
    return false;
  case HTTP_LOGIN_THROTTLED: {
    iap_snprintf(msg, sizeof(msg), "too many failed logins: try again in %u s",
             retry_after(wait_ms, extra));
    http_conn_early_error(c, 429, msg, extra);
    return false;
  }
  }
  return false;
}
