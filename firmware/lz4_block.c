/* The LZ4 block decoder (see lz4_block.h). Byte loops on purpose: it runs once per reset,
 * from flash, before the C library or the clocks are set up, and the compiler must not turn
 * a loop into a memcpy call (the stub is linked without a C library). */
#include "lz4_block.h"

/* Adds the length bytes that follow a nibble of 15. 0, or -1 if the input ends first. */
static int add_length(const uint8_t **ip, const uint8_t *end, size_t limit, size_t *n)
{
  unsigned b;
  do {
    if (*ip >= end || *n > limit)
      return -1;
    b = *(*ip)++;
    *n += b;
  } while (b == 255u);
  return 0;
}

long lz4_block_unpack(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap)
{
  const uint8_t *ip = in;
  const uint8_t *const in_end = in + in_len;
  uint8_t *op = out;

  for (;;) {
    if (ip >= in_end)
      return -1;                                   /* no token: a block never ends here */
    unsigned token = *ip++;

    size_t n = token >> 4;
    if (n == 15u && add_length(&ip, in_end, out_cap, &n) != 0)
      return -1;
    if (n > (size_t)(in_end - ip) || n > out_cap - (size_t)(op - out))
      return -1;
    while (n--)
      *op++ = *ip++;

    if (ip == in_end)
      return (long)(op - out);                     /* the last sequence: literals only */
    if (in_end - ip < 2)
      return -1;
    size_t offset = (size_t)ip[0] | (size_t)ip[1] << 8;
    ip += 2;
    if (offset == 0 || offset > (size_t)(op - out))
      return -1;

    n = token & 15u;
    if (n == 15u && add_length(&ip, in_end, out_cap, &n) != 0)
      return -1;
    n += 4;
    if (n > out_cap - (size_t)(op - out))
      return -1;
    const uint8_t *match = op - offset;
    while (n--)
      *op++ = *match++;
  }
}
