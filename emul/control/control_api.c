/* The control API's data and parsers (see control_api.h). */
#include "control_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control_json.h"

/* --- JSON of the status, the transfer, log lines and errors ------------------------------ */

static json_t *hex32(uint32_t v)
{
  return json_sprintf("0x%08x", (unsigned)v);
}

static json_t *ipv4(const uint8_t a[4])
{
  return json_sprintf("%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

json_t *control_transfer_json(const struct control_transfer *t)
{
  if (!t->active)
    return json_null();
  uint64_t pct = t->expected > 0 ? (uint64_t)t->bytes * 100u / t->expected : 0;
  uint64_t rate = t->elapsed_ms > 0 ? (uint64_t)t->bytes * 1000u / t->elapsed_ms : 0;
  /* An unannounced size has no percentage: null, not 0, so a bar is not drawn empty. */
  json_t *expected = t->expected > 0 ? json_integer(t->expected) : json_null();
  json_t *percent = t->expected > 0 ? json_integer(pct > 100 ? 100 : (json_int_t)pct)
                                    : json_null();
  return json_pack("{s:o,s:o,s:I,s:o,s:o,s:I,s:I}",
                   "protocol", control_json_string(t->protocol),
                   "peer", control_json_string(t->peer),
                   "bytes", (json_int_t)t->bytes,
                   "expected_bytes", expected,
                   "percent", percent,
                   "rate_bytes_per_s", (json_int_t)rate,
                   "elapsed_ms", (json_int_t)t->elapsed_ms);
}

static json_t *board_json(const struct board_status *s)
{
  json_t *application = s->application
    ? json_pack("{s:o,s:o}", "msp", hex32(s->msp), "pc", hex32(s->pc))
    : json_null();
  return json_pack("{s:s,s:o,s:o,s:b,s:o,s:I}",
                   "mode", s->application ? "application" : "iap",
                   "reason", control_json_string(s->reason),
                   "detail", control_json_string(s->detail),
                   "key_held", (int)s->key_held,
                   "application", application,
                   "uptime_ms", (json_int_t)s->uptime_ms);
}

static json_t *network_json(const struct board_status *s)
{
  return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:I,s:I,s:I}",
                   "backend", control_json_string(s->backend),
                   "interface", control_json_string(s->interface),
                   "mac", json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1],
                                       s->mac[2], s->mac[3], s->mac[4], s->mac[5]),
                   "ip", ipv4(s->ip),
                   "netmask", ipv4(s->netmask),
                   "gateway", ipv4(s->gateway),
                   "address_source", control_json_string(s->address_source),
                   "up", (int)s->up,
                   "rx_frames", (json_int_t)s->rx_frames,
                   "tx_frames", (json_int_t)s->tx_frames,
                   "rx_dropped_stalled", (json_int_t)s->rx_dropped_stalled);
}

static json_t *flash_json(const struct board_status *s)
{
  json_t *sectors = json_array();
  if (sectors == NULL)
    return NULL;
  for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++) {
    json_t *sector = json_pack("{s:I,s:o,s:I,s:b,s:b,s:I}",
                               "sector", (json_int_t)n,
                               "address", hex32(stm32_flash_sector_base(n)),
                               "size", (json_int_t)stm32_flash_sector_size(n),
                               "bootloader", (int)((s->protected_sectors >> n) & 1u),
                               "erased", (int)s->erased[n],
                               "erase_count", (json_int_t)s->erase_count[n]);
    if (json_array_append_new(sectors, sector) != 0) {
      json_decref(sectors);
      return NULL;
    }
  }
  json_t *silicon_ms = s->last_upgrade ? json_integer(s->last_upgrade_silicon_ms)
                                       : json_null();
  return json_pack("{s:I,s:o,s:b,s:o,s:f,s:I,s:o,s:I,s:o}",
                   "size", (json_int_t)STM32_FLASH_SIZE,
                   "user_flash", hex32(s->user_flash),
                   "busy", (int)s->busy,
                   "timing", control_json_string(s->timing ? s->timing : "none"),
                   "timing_scale", s->timing_scale,
                   "operations_since_power_on", (json_int_t)s->operations,
                   "last_upgrade_silicon_ms", silicon_ms,
                   "power_cuts", (json_int_t)s->power_cuts,
                   "sectors", sectors);
}

static json_t *slots_json(const struct board_status *s)
{
  json_t *list = json_array();
  if (list == NULL)
    return NULL;
  for (unsigned i = 0; i < s->slot_count && i < 3; i++) {
    const struct control_image_slot *sl = &s->slots[i];
    json_t *record = sl->record
      ? json_pack("{s:I,s:I,s:I,s:s}", "seq", (json_int_t)sl->seq,
                  "image_len", (json_int_t)sl->image_len,
                  "trailer_len", (json_int_t)sl->trailer_len, "sha256", sl->sha256)
      : json_null();
    json_t *slot = json_pack("{s:o,s:o,s:o,s:I,s:o,s:o,s:o}",
                             "name", control_json_string(sl->name),
                             "address", hex32(sl->address),
                             "end", hex32(sl->end),
                             "max_image", (json_int_t)sl->max_image,
                             "content", control_json_string(sl->content),
                             "detail", control_json_string(sl->detail),
                             "record", record);
    if (json_array_append_new(list, slot) != 0) {
      json_decref(list);
      return NULL;
    }
  }
  return json_pack("{s:o,s:o,s:o}",
                   "boot_verify", control_json_string(s->boot_verify),
                   "layout", control_json_string(s->layout),
                   "list", list);
}

json_t *control_status_json(const struct board_status *s)
{
  /* json_pack takes the "o" references even when it fails, so a NULL part leaks nothing. */
  return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}",
                   "board", board_json(s),
                   "network", network_json(s),
                   "transfer", control_transfer_json(&s->transfer),
                   "flash", flash_json(s),
                   "slots", slots_json(s),
                   "flash_error", s->flash_error ? control_json_string(s->flash_error)
                                                 : json_null());
}

json_t *control_log_json(enum iap_log_level level, const char *module, const char *text,
                         uint32_t uptime_ms)
{
  static const char *const names[] = {
    [IAP_LOG_ERR] = "error", [IAP_LOG_WARN] = "warning", [IAP_LOG_INFO] = "info",
    [IAP_LOG_DEBUG] = "debug",
  };
  const char *name = (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "info";
  return json_pack("{s:s,s:o,s:o,s:I}",
                   "level", name,
                   "module", control_json_string(module),
                   "text", control_json_string(text),
                   "uptime_ms", (json_int_t)uptime_ms);
}

json_t *control_error_json(const char *message)
{
  return json_pack("{s:o}", "error", control_json_string(message));
}

/* --- POST /api/reset body ------------------------------------------------------------- */

#define RESET_EXPECTED "expected {\"key\": true} or {\"key\": false}"
#define MEMBER_NAME_SHOWN 32   /* bytes of an unknown member's name quoted back */

static bool json_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';   /* RFC 8259, 2: ws */
}

bool control_parse_reset(const char *body, size_t len, bool *key_held, char *why,
                         size_t why_size)
{
  json_error_t error;
  const char *name;
  json_t *value, *key = NULL;
  size_t blanks = 0;
  bool ok = false;

  /* Said apart from other bad JSON: an empty body is the usual mistake (curl -X POST). */
  while (blanks < len && json_blank(body[blanks]))
    blanks++;
  if (blanks == len) {
    snprintf(why, why_size, "empty body: " RESET_EXPECTED);
    return false;
  }
  json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
  if (doc == NULL) {
    snprintf(why, why_size, "JSON error at line %d, column %d: %s: " RESET_EXPECTED,
             error.line, error.column, error.text);
    return false;
  }
  if (!json_is_object(doc)) {
    snprintf(why, why_size, "not a JSON object: " RESET_EXPECTED);
    goto out;
  }
  json_object_foreach(doc, name, value) {
    if (strcmp(name, "key") != 0) {
      snprintf(why, why_size, "unknown member \"%.*s\": " RESET_EXPECTED,
               MEMBER_NAME_SHOWN, name);
      goto out;
    }
    key = value;
  }
  if (key == NULL) {
    snprintf(why, why_size, "no \"key\" member: " RESET_EXPECTED);
    goto out;
  }
  if (!json_is_boolean(key)) {
    snprintf(why, why_size, "\"key\" must be true or false: " RESET_EXPECTED);
    goto out;
  }
  *key_held = json_is_true(key);
  ok = true;
out:
  json_decref(doc);
  return ok;
}

/* --- POST /api/power-cut body ----------------------------------------------------------- */

#define CUT_EXPECTED "expected {} or {\"mode\": \"torn\"} or {\"mode\": \"clean\"}"

bool control_parse_power_cut(const char *body, size_t len, int *mode, char *why,
                             size_t why_size)
{
  json_error_t error;
  const char *name;
  json_t *value;
  size_t blanks = 0;
  bool ok = false;

  while (blanks < len && json_blank(body[blanks]))
    blanks++;
  if (blanks == len) {
    snprintf(why, why_size, "empty body: " CUT_EXPECTED);
    return false;
  }
  json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
  if (doc == NULL) {
    snprintf(why, why_size, "JSON error at line %d, column %d: %s: " CUT_EXPECTED,
             error.line, error.column, error.text);
    return false;
  }
  if (!json_is_object(doc)) {
    snprintf(why, why_size, "not a JSON object: " CUT_EXPECTED);
    goto out;
  }
  *mode = -1;
  json_object_foreach(doc, name, value) {
    if (strcmp(name, "mode") != 0) {
      snprintf(why, why_size, "unknown member \"%.*s\": " CUT_EXPECTED, MEMBER_NAME_SHOWN,
               name);
      goto out;
    }
    const char *text = json_string_value(value);
    if (text != NULL && strcmp(text, "torn") == 0)
      *mode = 0;
    else if (text != NULL && strcmp(text, "clean") == 0)
      *mode = 1;
    else {
      snprintf(why, why_size, "\"mode\" must be \"torn\" or \"clean\": " CUT_EXPECTED);
      goto out;
    }
  }
  ok = true;
out:
  json_decref(doc);
  return ok;
}

json_t *control_power_cut_json(const struct power_cut_report *r)
{
  return json_pack("{s:b,s:o,s:I,s:s,s:o,s:s}",
                   "power_cut", 1,
                   "operation", r->operation ? json_integer(r->operation) : json_null(),
                   "operations", (json_int_t)r->operations,
                   "cut", r->mode,
                   "what", control_json_string(r->what),
                   "mode", r->application ? "application" : "iap");
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

size_t control_sse_event(char *buf, size_t size, const char *event, const json_t *data)
{
  size_t len;
  if (data == NULL)
    return 0;
  char *text = control_json_dump(data, size, &len);
  if (text == NULL)
    return 0;
  size_t n = control_sse_format(buf, size, event, text, len);
  free(text);
  return n;
}
