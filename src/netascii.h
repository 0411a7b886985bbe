/*
 * netascii decoding (RFC 764 via RFC 1350): CR NUL -> CR, CR LF -> LF, everything else as is.
 * tftp-hpa's client and Windows tftp.exe (without -i) send netascii by default; decoding it
 * exactly puts the file's own bytes into flash. A CR at the end of one block pairs with the
 * first byte of the next, so the decoder keeps that one bit of state.
 */
#ifndef IAPD_NETASCII_H
#define IAPD_NETASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netascii_decoder {
  bool pending_cr;
};

void netascii_init(struct netascii_decoder *d);

/* Decodes len bytes into out, which must hold len + 1 bytes (a CR held back from the previous
 * call may come out first). Returns the number of bytes written to out. */
size_t netascii_decode(struct netascii_decoder *d, const uint8_t *in, size_t len, uint8_t *out);

/* End of the transfer: a lone trailing CR is kept as it is. Writes 0 or 1 byte to out. */
size_t netascii_finish(struct netascii_decoder *d, uint8_t *out);

#endif
