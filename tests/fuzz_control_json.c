/*
 * libFuzzer target: what the control server reads from a client before libmicrohttpd's
 * answer is built (emul/control/control_api.c): the POST /api/reset body (JSON), the Host
 * header of every request, and the --control address. Input: byte 0 picks the parser (0 the
 * body, 1 Host, 2 the address), the rest is its text; the body is given as exactly its
 * bytes, not NUL-terminated, so ASan sees a read past it. Checks: no crash, no sanitizer
 * report, no leak; a refusal always says why, in the room given, NUL-terminated; the same
 * input gives the same answer twice; an accepted body holds "key" and its value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool contains(const char *s, size_t len, const char *text)
{
  size_t n = strlen(text);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(s + i, text, n) == 0)
      return true;
  return false;
}

static void said_why(const char *why, size_t size)
{
  size_t n = strnlen(why, size);
  if (n == 0 || n == size)
    abort();  /* no reason, or not terminated in its room */
}

static void reset_body(const uint8_t *data, size_t size)
{
  char why[160], why2[160];
  bool key = false, key2 = false;
  char *body = malloc(size ? size : 1);
  if (body == NULL)
    return;
  memcpy(body, data, size);
  memset(why, 0x55, sizeof(why));
  bool ok = control_parse_reset(body, size, &key, why, sizeof(why));
  bool ok2 = control_parse_reset(body, size, &key2, why2, sizeof(why2));
  if (ok != ok2 || (ok && key != key2))
    abort();
  if (!ok) {
    said_why(why, sizeof(why));
    if (strcmp(why, why2) != 0)
      abort();
  } else if (!contains(body, size, "key") || !contains(body, size, key ? "true" : "false")) {
    abort();  /* accepted without the member or its value in the text */
  }
  free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t which = data[0] % 3;
  data++;
  size--;
  if (which == 0) {
    reset_body(data, size);
    return 0;
  }
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (which == 1) {
    if (control_host_allowed(text) != control_host_allowed(text))
      abort();
  } else {
    struct control_listen where;
    char why[160];
    memset(why, 0x55, sizeof(why));
    if (!control_parse_listen(text, &where, why, sizeof(why)))
      said_why(why, sizeof(why));
    else if (where.enabled && where.addr_len == 0)
      abort();  /* an address to listen on without its length */
  }
  free(text);
  return 0;
}
