/* A small snprintf: the conversions the IAP code uses (see iap_format.h). */
#include "iap_format.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
  char *buf;
  size_t size;
  size_t len;   /* what the whole text needs, as snprintf counts it */
};

static void put(struct out *o, char c)
{
  if (o->len + 1 < o->size)
    o->buf[o->len] = c;
  o->len++;
}

static void put_n(struct out *o, char c, size_t n)
{
  while (n-- > 0)
    put(o, c);
}

int iap_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
  struct out o = { buf, size, 0 };
  va_list ap;

  va_copy(ap, ap_in);
  while (*fmt != '\0') {
    const char *start = fmt;
    if (*fmt != '%') {
      put(&o, *fmt++);
      continue;
    }
    fmt++;

    bool zero = *fmt == '0';
    if (zero)
      fmt++;
    unsigned width = 0;
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10u + (unsigned)(*fmt++ - '0');
    int prec = -1;
    if (*fmt == '.') {
      fmt++;
      if (*fmt == '*') {
        fmt++;
        prec = va_arg(ap, int);
        if (prec < 0)
          prec = -1;
      } else {
        prec = 0;
        while (*fmt >= '0' && *fmt <= '9')
          prec = prec * 10 + (*fmt++ - '0');
      }
    }
    char size_mod = 0;
    if (*fmt == 'l' || *fmt == 'z')
      size_mod = *fmt++;

    char digits[3 * sizeof(unsigned long) + 2];
    const char *text = digits;
    size_t len = 0;
    const char *sign = "";
    bool numeric = true;
    unsigned long value = 0;
    unsigned base = 10;
    char conv = *fmt++;

    switch (conv) {
    case 's':
      text = va_arg(ap, const char *);
      if (text == NULL)
        text = "(null)";
      while (text[len] != '\0' && (prec < 0 || len < (size_t)prec))
        len++;
      numeric = false;
      break;
    case 'c':
      digits[0] = (char)va_arg(ap, int);
      len = 1;
      numeric = false;
      break;
    case '%':
      put(&o, '%');
      continue;
    case 'd': {
      long v = size_mod == 'l' ? va_arg(ap, long)
               : size_mod == 'z' ? (long)va_arg(ap, size_t) : va_arg(ap, int);
      if (v < 0) {
        sign = "-";
        value = 0ul - (unsigned long)v;
      } else {
        value = (unsigned long)v;
      }
      break;
    }
    case 'x':
      base = 16;
      /* fall through */
    case 'u':
      value = size_mod == 'l' ? va_arg(ap, unsigned long)
              : size_mod == 'z' ? va_arg(ap, size_t) : va_arg(ap, unsigned);
      break;
    case 'p':
      value = (unsigned long)(uintptr_t)va_arg(ap, void *);
      sign = "0x";
      base = 16;
      break;
    default:   /* not a conversion of ours: the text as written */
      if (conv == '\0')
        fmt--;
      while (start < fmt)
        put(&o, *start++);
      continue;
    }

    if (numeric) {
      char *end = digits + sizeof(digits);
      char *p = end;
      do {
        *--p = "0123456789abcdef"[value % base];
        value /= base;
      } while (value != 0);
      if (prec == 0 && p[0] == '0' && end - p == 1)
        p = end;   /* "%.0u" of 0 is no digit at all */
      len = (size_t)(end - p);
      text = p;
    }

    size_t lead0 = 0;   /* zeros between the sign and the digits */
    if (numeric && prec >= 0 && len < (size_t)prec)
      lead0 = (size_t)prec - len;
    size_t sign_len = 0;
    while (sign[sign_len] != '\0')
      sign_len++;
    size_t total = sign_len + lead0 + len;
    size_t fill = width > total ? width - total : 0;
    if (numeric && zero && prec < 0) {
      lead0 += fill;
      fill = 0;
    }
    put_n(&o, ' ', fill);
    for (size_t i = 0; i < sign_len; i++)
      put(&o, sign[i]);
    put_n(&o, '0', lead0);
    for (size_t i = 0; i < len; i++)
      put(&o, text[i]);
  }
  va_end(ap);
  if (size > 0)
    buf[o.len < size ? o.len : size - 1] = '\0';
  return (int)o.len;
}

void iap_format_ip4(char buf[IAP_IP4_TEXT_SIZE], const void *octets)
{
  const uint8_t *b = octets;
  iap_snprintf(buf, IAP_IP4_TEXT_SIZE, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

int iap_snprintf(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = iap_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
