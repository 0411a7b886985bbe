/* JSON string escaping (see json_escape.h). */
#include "json_escape.h"

#include <stdbool.h>
#include <string.h>

size_t json_escape_string(const char *text, char *out, size_t out_size)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)text;
  size_t need = 0;    /* length of the whole escaped text */
  size_t n = 0;       /* bytes written to out */
  bool cut = out_size == 0;

  for (; *p != '\0'; p++) {
    char esc[6];
    size_t len = 1;
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      len = 2;
    } else if (*p < 0x20) {
      /* RFC 8259 7: control characters must be escaped; \u00xx covers them all (the short
       * forms \n, \t... are optional). */
      memcpy(esc, "\\u00", 4);
      esc[4] = hex[*p >> 4];
      esc[5] = hex[*p & 0x0f];
      len = 6;
    } else {
      esc[0] = (char)*p;
    }
    /* Once one escape does not fit, none after it is written: out stays a prefix. */
    if (!cut && n + len < out_size) {
      memcpy(out + n, esc, len);
      n += len;
    } else {
      cut = true;
    }
    need += len;
  }
  if (out_size > 0)
    out[n] = '\0';
  return need;
}
