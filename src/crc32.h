/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32() and `gzip -l`): the image checksum logged
 * after an upload. crc32_update(0, data, len) starts a new checksum. */
#ifndef IAPD_CRC32_H
#define IAPD_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
