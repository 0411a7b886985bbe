/* netascii decoding (see netascii.h). */
#include "netascii.h"

void netascii_init(struct netascii_decoder *d)
{
  d->pending_cr = false;
}

size_t netascii_decode(struct netascii_decoder *d, const uint8_t *in, size_t len, uint8_t *out)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    if (d->pending_cr) {
      d->pending_cr = false;
      if (c == '\0') {            /* CR NUL: a bare CR in the file */
        out[n++] = '\r';
        continue;
      }
      if (c == '\n') {            /* CR LF: the file's newline */
        out[n++] = '\n';
        continue;
      }
      out[n++] = '\r';            /* not netascii; keep the CR rather than lose a byte */
    }
    if (c == '\r')
      d->pending_cr = true;
    else
      out[n++] = c;
  }
  return n;
}

size_t netascii_finish(struct netascii_decoder *d, uint8_t *out)
{
  if (!d->pending_cr)
    return 0;
  d->pending_cr = false;
  out[0] = '\r';
  return 1;
}
