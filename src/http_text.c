/* Text helpers of the HTTP server (see http_text.h). */
#include "http_text.h"

#include <string.h>

static char lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_blank(char c)
{
  return c == ' ' || c == '\t';
}

bool http_text_equal_ci(const char *a, const char *b)
{
  for (; *a != '\0' && *b != '\0'; a++, b++)
    if (lower(*a) != lower(*b))
      return false;
  return *a == *b;
}

bool http_prefix_ci(const char *s, const char *prefix)
{
  for (; *prefix != '\0'; s++, prefix++)
    if (*s == '\0' || lower(*s) != lower(*prefix))
      return false;
  return true;
}

const char *http_header_value(const char *line, const char *name)
{
  size_t n = strlen(name);
  const char *p = line;

  for (size_t i = 0; i < n; i++)
    if (p[i] == '\0' || lower(p[i]) != lower(name[i]))
      return NULL;
  if (p[n] != ':')
    return NULL;
  p += n + 1;
  while (is_blank(*p))
    p++;
  return p;
}

bool http_find_param(const char *params, const char *name, char *out, size_t out_size,
                     bool *cut)
{
  const char *p = params;
  size_t name_len = strlen(name);

  *cut = false;
  if (out_size > 0)
    out[0] = '\0';
  while (*p != '\0') {
    while (*p == ';' || is_blank(*p))
      p++;
    const char *key = p;
    while (*p != '\0' && *p != '=' && *p != ';' && !is_blank(*p))
      p++;
    size_t key_len = (size_t)(p - key);
    while (is_blank(*p))
      p++;
    if (*p != '=')
      continue;  /* a parameter without a value: skip it */
    p++;
    while (is_blank(*p))
      p++;
    bool match = key_len == name_len;
    for (size_t i = 0; match && i < key_len; i++)
      match = lower(key[i]) == lower(name[i]);

    size_t n = 0;
    if (*p == '"') {
      p++;
      while (*p != '\0' && *p != '"') {
        if (*p == '\\' && p[1] != '\0')
          p++;
        if (match) {
          if (n + 1 < out_size)
            out[n++] = *p;
          else
            *cut = true;
        }
        p++;
      }
      if (*p == '"')
        p++;
    } else {
      const char *v = p;
      while (*p != '\0' && *p != ';')
        p++;
      const char *end = p;
      while (end > v && is_blank(end[-1]))
        end--;
      for (; match && v < end; v++) {
        if (n + 1 < out_size)
          out[n++] = *v;
        else
          *cut = true;
      }
    }
    if (match) {
      if (out_size > 0)
        out[n] = '\0';
      return true;
    }
  }
  return false;
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

bool http_form_field(const char *body, size_t len, const char *name, char *out,
                     size_t out_size)
{
  size_t name_len = strlen(name);
  size_t i = 0;

  while (i < len) {
    size_t start = i;
    while (i < len && body[i] != '&')
      i++;
    size_t end = i;  /* the pair is body[start..end) */
    i++;             /* past the '&' */
    if (end - start <= name_len || body[start + name_len] != '='
        || memcmp(body + start, name, name_len) != 0)
      continue;
    size_t n = 0;
    for (size_t k = start + name_len + 1; k < end; k++) {
      char c = body[k];
      if (c == '+') {
        c = ' ';
      } else if (c == '%') {
        int hi = k + 2 < end ? hex_value(body[k + 1]) : -1;
        int lo = hi < 0 ? -1 : hex_value(body[k + 2]);
        if (lo < 0)
          return false;
        c = (char)(hi << 4 | lo);
        k += 2;
      }
      if (c == '\0' || n + 1 >= out_size)
        return false;
      out[n++] = c;
    }
    out[n] = '\0';
    return true;
  }
  return false;
}

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int http_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size)
{
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t n = 0;

  while (in_len > 0 && in[in_len - 1] == '=')
    in_len--;
  if (in_len % 4 == 1)
    return -1;
  for (size_t i = 0; i < in_len; i++) {
    int v = base64_value(in[i]);
    if (v < 0)
      return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= out_size)
        return -1;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return (int)n;
}

size_t http_html_escape(const char *text, char *out, size_t out_size)
{
  size_t n = 0;

  if (out_size == 0)
    return 0;
  for (; *text != '\0'; text++) {
    const char *rep;
    char one[2] = { *text, '\0' };
    switch (*text) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    default: rep = one; break;
    }
    size_t len = strlen(rep);
    if (n + len >= out_size)
      break;
    memcpy(out + n, rep, len);
    n += len;
  }
  out[n] = '\0';
  return n;
}

bool http_equal_const_time(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                           size_t max_len)
{
  /* Every byte up to max_len is read from both (as 0 past their ends), and differences are
   * ORed together: no branch and no early exit depends on the data. */
  volatile uint8_t diff = (uint8_t)((a_len != b_len) | (a_len > max_len) | (b_len > max_len));
  for (size_t i = 0; i < max_len; i++) {
    uint8_t x = i < a_len ? a[i] : 0;
    uint8_t y = i < b_len ? b[i] : 0;
    diff |= (uint8_t)(x ^ y);
  }
  return diff == 0;
}
