/* jansson for the control API: byte strings and capped text (see control_json.h). */
#include "control_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TEXT_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

/* U+FFFD REPLACEMENT CHARACTER, once for every byte that is not part of a valid sequence:
 * the reader sees how many bytes were bad, and a cut-short sequence needs no special case. */
static const char replacement[] = "\xEF\xBF\xBD";
#define REPLACEMENT_LEN (sizeof(replacement) - 1)

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  /* allowed range of the second byte */

  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;      /* overlong */
    else if (c == 0xED)
      hi = 0x9F;      /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;      /* overlong */
    else if (c == 0xF4)
      hi = 0x8F;      /* above U+10FFFF */
  } else
    return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

json_t *control_json_stringn(const char *s, size_t len)
{
  const unsigned char *in = (const unsigned char *)s;
  size_t i = 0, seq = 0;

  /* Most strings are valid: hand them over as they are. */
  while (i < len && (seq = utf8_sequence(in + i, len - i)) > 0)
    i += seq;
  if (i == len)
    return json_stringn(s, len);

  if (len > (SIZE_MAX - 1) / REPLACEMENT_LEN)
    return NULL;
  char *clean = malloc(len * REPLACEMENT_LEN + 1);
  if (clean == NULL)
    return NULL;
  memcpy(clean, s, i);
  size_t out = i;
  while (i < len) {
    seq = utf8_sequence(in + i, len - i);
    if (seq == 0) {
      memcpy(clean + out, replacement, REPLACEMENT_LEN);
      out += REPLACEMENT_LEN;
      i++;
    } else {
      memcpy(clean + out, s + i, seq);
      out += seq;
      i += seq;
    }
  }
  json_t *str = json_stringn_nocheck(clean, out);  /* valid now: no second check */
  free(clean);
  return str;
}

json_t *control_json_string(const char *s)
{
  return s == NULL ? json_string("") : control_json_stringn(s, strlen(s));
}

char *control_json_dump(const json_t *v, size_t max_len, size_t *len)
{
  /* jansson counts without a buffer; then the text is written once into one that fits. */
  size_t need = json_dumpb(v, NULL, 0, JSON_TEXT_FLAGS);
  if (need == 0 || need > max_len)
    return NULL;
  char *text = malloc(need + 1);
  if (text == NULL)
    return NULL;
  if (json_dumpb(v, text, need, JSON_TEXT_FLAGS) != need) {
    free(text);
    return NULL;
  }
  text[need] = '\0';
  if (len != NULL)
    *len = need;
  return text;
}
