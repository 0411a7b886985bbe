/* The control API's data and parsers (see control_api.h). */
#include "control_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void json_ipv4(struct json *j, const char *key, const uint8_t a[4])
{
  json_key(j, key);
  json_stringf(j, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static void json_hex32(struct json *j, const char *key, uint32_t v)
{
  json_key(j, key);
  json_stringf(j, "0x%08x", (unsigned)v);
}

void control_transfer_json(struct json *j, const struct control_transfer *t)
{
  if (!t->active) {
    json_null(j);
    return;
  }
  json_object_begin(j);
  json_key(j, "protocol");
  json_string(j, t->protocol ? t->protocol : "");
  json_key(j, "peer");
  json_string(j, t->peer ? t->peer : "");
  json_key(j, "bytes");
  json_uint(j, t->bytes);
  json_key(j, "expected_bytes");
  if (t->expected > 0)
    json_uint(j, t->expected);
  else
    json_null(j);
  json_key(j, "percent");
  if (t->expected > 0) {
    uint64_t pct = (uint64_t)t->bytes * 100u / t->expected;
    json_uint(j, pct > 100 ? 100 : pct);
  } else {
    json_null(j);
  }
  json_key(j, "rate_bytes_per_s");
  json_uint(j, t->elapsed_ms > 0 ? (uint64_t)t->bytes * 1000u / t->elapsed_ms : 0);
  json_key(j, "elapsed_ms");
  json_uint(j, t->elapsed_ms);
  json_object_end(j);
}

void control_status_json(struct json *j, const struct board_status *s)
{
  json_object_begin(j);

  json_key(j, "board");
  json_object_begin(j);
  json_key(j, "mode");
  json_string(j, s->application ? "application" : "iap");
  json_key(j, "reason");
  json_string(j, s->reason ? s->reason : "");
  json_key(j, "detail");
  json_string(j, s->detail ? s->detail : "");
  json_key(j, "key_held");
  json_bool(j, s->key_held);
  json_key(j, "application");
  if (s->application) {
    json_object_begin(j);
    json_hex32(j, "msp", s->msp);
    json_hex32(j, "pc", s->pc);
    json_object_end(j);
  } else {
    json_null(j);
  }
  json_key(j, "uptime_ms");
  json_uint(j, s->uptime_ms);
  json_object_end(j);

  json_key(j, "network");
  json_object_begin(j);
  json_key(j, "backend");
  json_string(j, s->backend ? s->backend : "");
  json_key(j, "interface");
  json_string(j, s->interface ? s->interface : "");
  json_key(j, "mac");
  json_stringf(j, "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2],
               s->mac[3], s->mac[4], s->mac[5]);
  json_ipv4(j, "ip", s->ip);
  json_ipv4(j, "netmask", s->netmask);
  json_ipv4(j, "gateway", s->gateway);
  json_key(j, "address_source");
  json_string(j, s->address_source ? s->address_source : "");
  json_key(j, "up");
  json_bool(j, s->up);
  json_key(j, "rx_frames");
  json_uint(j, s->rx_frames);
  json_key(j, "tx_frames");
  json_uint(j, s->tx_frames);
  json_object_end(j);

  json_key(j, "transfer");
  control_transfer_json(j, &s->transfer);

  json_key(j, "flash");
  json_object_begin(j);
  json_key(j, "size");
  json_uint(j, STM32_FLASH_SIZE);
  json_hex32(j, "user_flash", s->user_flash);
  json_key(j, "sectors");
  json_array_begin(j);
  for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++) {
    json_object_begin(j);
    json_key(j, "sector");
    json_uint(j, n);
    json_hex32(j, "address", stm32_flash_sector_base(n));
    json_key(j, "size");
    json_uint(j, stm32_flash_sector_size(n));
    json_key(j, "bootloader");
    json_bool(j, (s->protected_sectors >> n) & 1u);
    json_key(j, "erased");
    json_bool(j, s->erased[n]);
    json_key(j, "erase_count");
    json_uint(j, s->erase_count[n]);
    json_object_end(j);
  }
  json_array_end(j);
  json_object_end(j);

  json_object_end(j);
}

/* --- POST /api/reset body ------------------------------------------------------------- */

static const char *skip_blanks(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  return p;
}

#define RESET_EXPECTED "expected {\"key\": true} or {\"key\": false}"

bool control_parse_reset(const char *body, size_t len, bool *key_held, char *why,
                         size_t why_size)
{
  const char *p = body, *end = body + len;
  bool have_key = false, value = false;

  p = skip_blanks(p, end);
  if (p == end) {
    snprintf(why, why_size, "empty body: " RESET_EXPECTED);
    return false;
  }
  if (*p++ != '{') {
    snprintf(why, why_size, "not a JSON object: " RESET_EXPECTED);
    return false;
  }
  p = skip_blanks(p, end);
  if (p < end && *p == '}') {
    snprintf(why, why_size, "no \"key\" member: " RESET_EXPECTED);
    return false;
  }
  for (;;) {
    /* A member name: a string without escapes (the only name we take needs none). */
    if (p == end || *p != '"') {
      snprintf(why, why_size, "expected a member name in double quotes: " RESET_EXPECTED);
      return false;
    }
    const char *name = ++p;
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
      p++;
    if (p == end || *p != '"') {
      snprintf(why, why_size, "bad member name: " RESET_EXPECTED);
      return false;
    }
    size_t name_len = (size_t)(p - name);
    p++;
    if (name_len != 3 || memcmp(name, "key", 3) != 0) {
      snprintf(why, why_size, "unknown member \"%.*s\": " RESET_EXPECTED,
               name_len > 32 ? 32 : (int)name_len, name);
      return false;
    }
    if (have_key) {
      snprintf(why, why_size, "\"key\" given twice: " RESET_EXPECTED);
      return false;
    }
    p = skip_blanks(p, end);
    if (p == end || *p++ != ':') {
      snprintf(why, why_size, "expected ':' after \"key\": " RESET_EXPECTED);
      return false;
    }
    p = skip_blanks(p, end);
    if ((size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0) {
      value = true;
      p += 4;
    } else if ((size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0) {
      value = false;
      p += 5;
    } else {
      snprintf(why, why_size, "\"key\" must be true or false: " RESET_EXPECTED);
      return false;
    }
    have_key = true;
    p = skip_blanks(p, end);
    if (p < end && *p == ',') {
      p = skip_blanks(p + 1, end);
      continue;
    }
    if (p == end || *p++ != '}') {
      snprintf(why, why_size, "expected '}' after the value: " RESET_EXPECTED);
      return false;
    }
    break;
  }
  if (skip_blanks(p, end) != end) {
    snprintf(why, why_size, "text after the object: " RESET_EXPECTED);
    return false;
  }
  *key_held = value;
  return true;
}

/* --- --control ADDR:PORT ----------------------------------------------------------------- */

static bool parse_port(const char *text, uint16_t *port)
{
  unsigned long v = 0;
  size_t n = 0;

  for (; text[n] >= '0' && text[n] <= '9'; n++) {
    v = v * 10u + (unsigned long)(text[n] - '0');
    if (v > 65535u)
      return false;
  }
  if (n == 0 || text[n] != '\0' || v == 0)
    return false;
  *port = (uint16_t)v;
  return true;
}

#define LISTEN_EXPECTED "(expected ADDR:PORT as in 127.0.0.1:8069 or [::1]:8069, or none)"

bool control_parse_listen(const char *text, struct control_listen *out, char *why,
                          size_t why_size)
{
  char host[64];
  const char *colon, *port_text;
  uint16_t port;

  memset(out, 0, sizeof(*out));
  if (strlen(text) >= sizeof(out->text)) {
    snprintf(why, why_size, "is too long " LISTEN_EXPECTED);
    return false;
  }
  snprintf(out->text, sizeof(out->text), "%s", text);
  if (strcmp(text, "none") == 0)
    return true;

  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (close == NULL || close[1] != ':') {
      snprintf(why, why_size, "is not an address and port " LISTEN_EXPECTED);
      return false;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
    port_text = close + 2;
  } else {
    colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= sizeof(host)) {
      snprintf(why, why_size, "has no port " LISTEN_EXPECTED);
      return false;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
    port_text = colon + 1;
  }
  if (!parse_port(port_text, &port)) {
    snprintf(why, why_size, "has no valid port (1 to 65535) " LISTEN_EXPECTED);
    return false;
  }

  struct sockaddr_in sin;
  struct sockaddr_in6 sin6;
  memset(&sin, 0, sizeof(sin));
  memset(&sin6, 0, sizeof(sin6));
  if (text[0] != '[' && strcasecmp(host, "localhost") == 0)
    snprintf(host, sizeof(host), "127.0.0.1");
  if (text[0] != '[' && inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    memcpy(&out->addr, &sin, sizeof(sin));
    out->addr_len = sizeof(sin);
    out->loopback = (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
  } else if (text[0] == '[' && inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    memcpy(&out->addr, &sin6, sizeof(sin6));
    out->addr_len = sizeof(sin6);
    out->loopback = IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr);
  } else {
    snprintf(why, why_size, "has no valid address " LISTEN_EXPECTED);
    return false;
  }
  out->enabled = true;
  return true;
}

/* --- Host header ------------------------------------------------------------------------- */

bool control_host_allowed(const char *host)
{
  char name[64];
  struct in_addr a4;
  struct in6_addr a6;

  if (host == NULL)
    return true;
  if (host[0] == '[') {
    const char *close = strchr(host, ']');
    if (close == NULL || (size_t)(close - host - 1) >= sizeof(name))
      return false;
    if (close[1] != '\0' && close[1] != ':')
      return false;
    snprintf(name, sizeof(name), "%.*s", (int)(close - host - 1), host + 1);
    return inet_pton(AF_INET6, name, &a6) == 1;
  }
  const char *colon = strchr(host, ':');
  size_t len = colon ? (size_t)(colon - host) : strlen(host);
  if (len >= sizeof(name))
    return false;
  snprintf(name, sizeof(name), "%.*s", (int)len, host);
  if (colon != NULL) {
    uint16_t port;
    if (!parse_port(colon + 1, &port))
      return false;
  }
  return strcasecmp(name, "localhost") == 0 || inet_pton(AF_INET, name, &a4) == 1;
}

/* --- server-sent events ------------------------------------------------------------------ */

size_t control_sse_format(char *buf, size_t size, const char *event, const char *data,
                          size_t data_len)
{
  if (memchr(data, '\n', data_len) != NULL || memchr(data, '\r', data_len) != NULL)
    return 0;
  int n = snprintf(buf, size, "event: %s\ndata: %.*s\n\n", event, (int)data_len, data);
  if (n < 0 || (size_t)n >= size)
    return 0;
  return (size_t)n;
}
