/* Credentials, sessions and the brake on guessing (see http_auth.h). */
#include "http_auth.h"

#include <string.h>

#include "board.h"
#include "http_text.h"
#include "log.h"

static void copy_cut(char *dst, size_t size, const char *src)
{
  size_t n = strlen(src);
  if (n >= size)
    n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

void http_auth_init(struct http_auth *a, const struct board *board, const char *user,
                    const char *password, uint32_t session_timeout_ms)
{
  memset(a, 0, sizeof(*a));
  a->board = board;
  copy_cut(a->user, sizeof(a->user), user);
  copy_cut(a->password, sizeof(a->password), password);
  a->session_timeout_ms = session_timeout_ms;
}

static bool time_before(uint32_t a, uint32_t b)
{
  return (int32_t)(a - b) < 0;
}

static bool throttled(const struct http_auth *a, uint32_t now_ms, uint32_t *wait_ms)
{
  if (a->failures < HTTP_THROTTLE_FREE_FAILURES || !time_before(now_ms, a->retry_at_ms))
    return false;
  *wait_ms = a->retry_at_ms - now_ms;
  return true;
}

static void count_failure(struct http_auth *a, uint32_t now_ms)
{
  if (a->failures < 1000)
    a->failures++;
  if (a->failures >= HTTP_THROTTLE_FREE_FAILURES) {
    unsigned shift = a->failures - HTTP_THROTTLE_FREE_FAILURES;
    uint32_t delay = HTTP_THROTTLE_MAX_MS;
    if (shift < 16 && (HTTP_THROTTLE_BASE_MS << shift) < HTTP_THROTTLE_MAX_MS)
      delay = HTTP_THROTTLE_BASE_MS << shift;
    a->retry_at_ms = now_ms + delay;
    log_warn("http", "%u failed logins in a row: next attempt in %u ms", a->failures,
             (unsigned)delay);
  }
}

enum http_login http_auth_login(struct http_auth *a, const char *user, const char *password,
                                uint32_t now_ms, uint32_t *wait_ms)
{
  *wait_ms = 0;
  if (throttled(a, now_ms, wait_ms))
    return HTTP_LOGIN_THROTTLED;
  /* Both compared, always, each over its whole buffer: the time says nothing of which one
   * was wrong or how much of it. */
  bool user_ok = http_equal_const_time((const uint8_t *)user, strlen(user),
                                       (const uint8_t *)a->user, strlen(a->user),
                                       HTTP_USER_MAX);
  bool password_ok = http_equal_const_time((const uint8_t *)password, strlen(password),
                                           (const uint8_t *)a->password,
                                           strlen(a->password), HTTP_PASSWORD_MAX);
  if (user_ok & password_ok) {
    a->failures = 0;
    return HTTP_LOGIN_OK;
  }
  count_failure(a, now_ms);
  return HTTP_LOGIN_WRONG;
}

enum http_login http_auth_basic(struct http_auth *a, const char *authorization,
                                uint32_t now_ms, uint32_t *wait_ms)
{
  uint8_t decoded[HTTP_USER_MAX + HTTP_PASSWORD_MAX + 2];
  char user[HTTP_USER_MAX + 2];
  char password[HTTP_PASSWORD_MAX + 2];

  *wait_ms = 0;
  if (!http_prefix_ci(authorization, "basic "))
    return HTTP_LOGIN_WRONG;
  const char *b64 = authorization + 6;
  while (*b64 == ' ')
    b64++;
  int n = http_base64_decode(b64, strlen(b64), decoded, sizeof(decoded) - 1);
  if (n < 0)
    return HTTP_LOGIN_WRONG;
  decoded[n] = '\0';
  if (memchr(decoded, '\0', (size_t)n) != NULL)
    return HTTP_LOGIN_WRONG;
  const char *colon = strchr((const char *)decoded, ':');
  if (colon == NULL)
    return HTTP_LOGIN_WRONG;
  /* Too long for the buffers: kept one byte longer than any valid one, so still wrong. */
  size_t ulen = (size_t)(colon - (const char *)decoded);
  if (ulen > HTTP_USER_MAX + 1)
    ulen = HTTP_USER_MAX + 1;
  memcpy(user, decoded, ulen);
  user[ulen] = '\0';
  copy_cut(password, sizeof(password), colon + 1);
  return http_auth_login(a, user, password, now_ms, wait_ms);
}

static bool expired(const struct http_auth *a, const struct http_session *s, uint32_t now_ms)
{
  return (uint32_t)(now_ms - s->last_used_ms) >= a->session_timeout_ms;
}

bool http_auth_session_open(struct http_auth *a, uint32_t now_ms,
                            char token[HTTP_TOKEN_HEX_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  uint8_t random[HTTP_SESSION_TOKEN_BYTES];
  struct http_session *slot = NULL;

  if (!a->board->ops->random(a->board->ctx, random, sizeof(random)))
    return false;
  for (unsigned i = 0; i < HTTP_SESSION_MAX; i++) {
    struct http_session *s = &a->sessions[i];
    if (s->used && expired(a, s, now_ms))
      s->used = false;
    if (!s->used) {
      slot = s;
      break;
    }
    if (slot == NULL || time_before(s->last_used_ms, slot->last_used_ms))
      slot = s;  /* least recently used so far */
  }
  for (unsigned i = 0; i < HTTP_SESSION_TOKEN_BYTES; i++) {
    slot->token[2 * i] = hex[random[i] >> 4];
    slot->token[2 * i + 1] = hex[random[i] & 15];
  }
  slot->token[HTTP_TOKEN_HEX_LEN] = '\0';
  slot->used = true;
  slot->last_used_ms = now_ms;
  memcpy(token, slot->token, HTTP_TOKEN_HEX_LEN + 1);
  memset(random, 0, sizeof(random));
  return true;
}

static struct http_session *find(struct http_auth *a, const char *token, uint32_t now_ms)
{
  size_t len = strlen(token);
  struct http_session *found = NULL;

  for (unsigned i = 0; i < HTTP_SESSION_MAX; i++) {
    struct http_session *s = &a->sessions[i];
    if (s->used && expired(a, s, now_ms))
      s->used = false;
    if (s->used && http_equal_const_time((const uint8_t *)token, len,
                                         (const uint8_t *)s->token, HTTP_TOKEN_HEX_LEN,
                                         HTTP_TOKEN_HEX_LEN))
      found = s;
  }
  return found;
}

bool http_auth_session_valid(struct http_auth *a, const char *token, uint32_t now_ms)
{
  struct http_session *s = find(a, token, now_ms);
  if (s == NULL)
    return false;
  s->last_used_ms = now_ms;
  return true;
}

void http_auth_session_close(struct http_auth *a, const char *token)
{
  for (unsigned i = 0; i < HTTP_SESSION_MAX; i++) {
    struct http_session *s = &a->sessions[i];
    if (s->used && http_equal_const_time((const uint8_t *)token, strlen(token),
                                         (const uint8_t *)s->token, HTTP_TOKEN_HEX_LEN,
                                         HTTP_TOKEN_HEX_LEN))
      s->used = false;
  }
}

unsigned http_auth_session_count(struct http_auth *a, uint32_t now_ms)
{
  unsigned n = 0;
  for (unsigned i = 0; i < HTTP_SESSION_MAX; i++) {
    if (a->sessions[i].used && expired(a, &a->sessions[i], now_ms))
      a->sessions[i].used = false;
    n += a->sessions[i].used;
  }
  return n;
}
