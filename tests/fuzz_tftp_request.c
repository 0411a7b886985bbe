/*
 * libFuzzer target: the TFTP request parser and its options (src/tftp_proto.c), on their own:
 * any bytes as a packet. Checks: no crash, no sanitizer report, and what the parser promises:
 * every string it returns lies inside the packet and ends there in a NUL; an option value
 * read as a number is the decimal text of that number (leading zeros aside); an OACK of
 * every option found, with its value, is built without overrunning its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tftp_core.h"
#include "tftp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *pkt, size_t len, const char *s)
{
  if (s == NULL || (const uint8_t *)s < pkt + 2 || (const uint8_t *)s >= pkt + len)
    abort();
  if (memchr(s, '\0', len - (size_t)((const uint8_t *)s - pkt)) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct tftp_request req;
  const char *why = NULL;
  uint8_t oack[TFTP_OACK_MAX + 1];

  /* A copy of exactly size bytes: ASan sees any read past the packet. */
  uint8_t *pkt = malloc(size ? size : 1);
  if (pkt == NULL)
    return 0;
  memcpy(pkt, data, size);
  if (!tftp_parse_request(pkt, size, &req, &why)) {
    if (why == NULL || why[0] == '\0')
      abort();  /* a refusal always says why */
    free(pkt);
    return 0;
  }
  inside(pkt, size, req.filename);
  inside(pkt, size, req.mode_name);
  if (req.noptions > TFTP_REQUEST_MAX_OPTIONS)
    abort();
  size_t len = tftp_build_oack(oack);
  oack[TFTP_OACK_MAX] = 0xA5;  /* a canary past the limit */
  for (size_t i = 0; i < req.noptions; i++) {
    const struct tftp_option *o = &req.options[i];
    inside(pkt, size, o->name);
    inside(pkt, size, o->value);
    enum tftp_option_name name = tftp_option_lookup(o->name);
    if (name != TFTP_OPT_UNKNOWN && strcmp(tftp_option_str(name), "?") == 0)
      abort();
    uint32_t v;
    if (!tftp_option_value(o->value, &v))
      continue;
    char text[16];
    const char *digits = o->value;
    while (digits[0] == '0' && digits[1] != '\0')
      digits++;
    snprintf(text, sizeof(text), "%u", (unsigned)v);
    if (strcmp(text, digits) != 0)
      abort();  /* the number read is not the number written */
    if (name != TFTP_OPT_UNKNOWN) {
      size_t n = tftp_oack_add(oack, TFTP_OACK_MAX, len, tftp_option_str(name), v);
      if (n != 0)
        len = n;
      if (len > TFTP_OACK_MAX)
        abort();
    }
  }
  if (oack[TFTP_OACK_MAX] != 0xA5)
    abort();  /* the OACK ran past its buffer */
  free(pkt);
  return 0;
}
