/* CRC-32 (see crc32.h), in one of two forms chosen at compile time (src/iap_opts.h):
 *  - a nibble table: 64 bytes of flash, two lookups per byte; the firmware's, where the
 *    bootloader sectors are tight and a pass over an image is not on a hot path;
 *  - slice-by-8: eight 256-entry tables (8 KiB, built at the first call), eight bytes per step
 *    for a quarter of the instructions; iapd's, where the writer's two passes over every image
 *    were most of the CPU time an upload cost. */
#include "crc32.h"

#include "iap_opts.h"

#if IAP_CRC32_SLICE_BY_8

#include <stdbool.h>

#define CRC32_POLY_REFLECTED 0xEDB88320u  /* IEEE 802.3, bit-reversed */

/* table[k][b]: the CRC-32 register after byte b followed by k zero bytes. */
static uint32_t table[8][256];
static bool table_ready;

static void build_table(void)
{
  for (unsigned b = 0; b < 256; b++) {
    uint32_t c = b;
    for (int bit = 0; bit < 8; bit++)
      c = (c >> 1) ^ (CRC32_POLY_REFLECTED & (0u - (c & 1u)));
    table[0][b] = c;
  }
  for (unsigned b = 0; b < 256; b++)
    for (unsigned k = 1; k < 8; k++)
      table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFFu];
  table_ready = true;
}

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
  const uint8_t *p = data;
  if (!table_ready)
    build_table();
  crc = ~crc;
  for (; len >= 8; p += 8, len -= 8) {
    uint32_t lo = crc ^ le32(p), hi = le32(p + 4);
    crc = table[7][lo & 0xFFu] ^ table[6][(lo >> 8) & 0xFFu] ^ table[5][(lo >> 16) & 0xFFu]
        ^ table[4][lo >> 24] ^ table[3][hi & 0xFFu] ^ table[2][(hi >> 8) & 0xFFu]
        ^ table[1][(hi >> 16) & 0xFFu] ^ table[0][hi >> 24];
  }
  while (len--)
    crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFFu];
  return ~crc;
}

#else

/* crc32_nibble[n]: the register after the four bits n. */
static const uint32_t crc32_nibble[16] = {
  0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
  0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
  0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
  const uint8_t *p = data;
  crc = ~crc;
  while (len--) {
    crc ^= *p++;
    crc = (crc >> 4) ^ crc32_nibble[crc & 0x0F];
    crc = (crc >> 4) ^ crc32_nibble[crc & 0x0F];
  }
  return ~crc;
}

#endif
