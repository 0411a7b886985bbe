/* TFTP packet parsing and building (see tftp_proto.h). */
#include "tftp_proto.h"

#include <string.h>

static uint16_t be16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

uint16_t tftp_packet_opcode(const uint8_t *pkt, size_t len)
{
  return len < 2 ? 0 : be16(pkt);
}

uint16_t tftp_packet_block(const uint8_t *pkt)
{
  return be16(pkt + 2);
}

/* ASCII case-insensitive compare: option names and modes are case-insensitive (RFC 1350,
 * RFC 2347), and the C library's strcasecmp depends on the locale. */
static bool name_equals(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
    char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
    if (ca != cb)
      return false;
  }
  return *a == *b;
}

static const char *const option_names[] = {
  [TFTP_OPT_BLKSIZE] = "blksize",
  [TFTP_OPT_TSIZE] = "tsize",
  [TFTP_OPT_TIMEOUT] = "timeout",
  [TFTP_OPT_WINDOWSIZE] = "windowsize",
};

enum tftp_option_name tftp_option_lookup(const char *name)
{
  for (size_t i = TFTP_OPT_BLKSIZE; i < sizeof(option_names) / sizeof(option_names[0]); i++)
    if (name_equals(name, option_names[i]))
      return (enum tftp_option_name)i;
  return TFTP_OPT_UNKNOWN;
}

const char *tftp_option_str(enum tftp_option_name opt)
{
  if (opt <= TFTP_OPT_UNKNOWN || (size_t)opt >= sizeof(option_names) / sizeof(option_names[0]))
    return "?";
  return option_names[opt];
}

bool tftp_option_value(const char *s, uint32_t *out)
{
  uint64_t v = 0;
  if (!*s)
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10u + (uint64_t)(*s - '0');
    if (v > 0xFFFFFFFFu)
      return false;
  }
  *out = (uint32_t)v;
  return true;
}

bool tftp_parse_request(const uint8_t *pkt, size_t len, struct tftp_request *req,
                        const char **why)
{
  const char *fields[2 + 2 * TFTP_REQUEST_MAX_OPTIONS];  /* filename, mode, option pairs */
  size_t nfields = 0;
  size_t start = 2;
  uint16_t op = tftp_packet_opcode(pkt, len);

  memset(req, 0, sizeof(*req));
  if (op != TFTP_RRQ && op != TFTP_WRQ) {
    *why = "not a read or write request";
    return false;
  }
  if (pkt[len - 1] != '\0') {
    *why = "malformed request: not NUL-terminated";
    return false;
  }
  /* Split the NUL-terminated strings; the check above guarantees each one ends in the packet.
   * Options beyond TFTP_REQUEST_MAX_OPTIONS pairs are ignored, which RFC 2347 allows. */
  for (size_t i = 2; i < len && nfields < sizeof(fields) / sizeof(fields[0]); i++) {
    if (pkt[i] == '\0') {
      fields[nfields++] = (const char *)pkt + start;
      start = i + 1;
    }
  }
  if (nfields < 2) {
    *why = "malformed request: missing filename or mode";
    return false;
  }
  if (fields[0][0] == '\0') {
    *why = "malformed request: empty filename";
    return false;
  }
  req->opcode = (enum tftp_opcode)op;
  req->filename = fields[0];
  req->mode_name = fields[1];
  if (name_equals(fields[1], "octet"))
    req->mode = TFTP_MODE_OCTET;
  else if (name_equals(fields[1], "netascii"))
    req->mode = TFTP_MODE_NETASCII;
  else if (name_equals(fields[1], "mail"))
    req->mode = TFTP_MODE_MAIL;
  else
    req->mode = TFTP_MODE_UNKNOWN;
  for (size_t i = 2; i + 1 < nfields; i += 2) {
    req->options[req->noptions].name = fields[i];
    req->options[req->noptions].value = fields[i + 1];
    req->noptions++;
  }
  return true;
}

size_t tftp_build_ack(uint8_t *buf, uint16_t block)
{
  put_be16(buf, TFTP_ACK);
  put_be16(buf + 2, block);
  return TFTP_HEADER_SIZE;
}

size_t tftp_build_error(uint8_t *buf, size_t size, uint16_t code, const char *message)
{
  size_t n = strlen(message);
  if (n > size - TFTP_HEADER_SIZE - 1)
    n = size - TFTP_HEADER_SIZE - 1;
  put_be16(buf, TFTP_ERROR);
  put_be16(buf + 2, code);
  memcpy(buf + TFTP_HEADER_SIZE, message, n);
  buf[TFTP_HEADER_SIZE + n] = '\0';
  return TFTP_HEADER_SIZE + n + 1;
}

size_t tftp_build_oack(uint8_t *buf)
{
  put_be16(buf, TFTP_OACK);
  return 2;
}

size_t tftp_oack_add(uint8_t *buf, size_t size, size_t len, const char *name, uint32_t value)
{
  char digits[10];
  size_t ndigits = 0, nname = strlen(name);

  do {
    digits[ndigits++] = (char)('0' + value % 10u);
    value /= 10u;
  } while (value);
  if (len > size || nname + 1 + ndigits + 1 > size - len)
    return 0;
  memcpy(buf + len, name, nname + 1);
  len += nname + 1;
  while (ndigits)
    buf[len++] = (uint8_t)digits[--ndigits];
  buf[len++] = '\0';
  return len;
}
