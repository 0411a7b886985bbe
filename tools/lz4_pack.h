/*
 * The LZ4 block format (firmware/lz4_block.h), encoded for the smallest output: the
 * bootloader's image is packed once per build, so the packer searches hard (every earlier
 * position with the same 4 bytes, up to a bound) and chooses matches by a shortest-path
 * pass over the whole input rather than greedily. Host-only (tools/fw_pack.c, the unit test).
 */
#ifndef IAPD_LZ4_PACK_H
#define IAPD_LZ4_PACK_H

#include <stddef.h>
#include <stdint.h>

/* The largest block lz4_block_pack() can write for n bytes of input. */
#define LZ4_PACK_BOUND(n) ((n) + (n) / 255u + 16u)

/* Packs in[0..n) into out (at least LZ4_PACK_BOUND(n) bytes) as one LZ4 block that lz4's own
 * decoder accepts too: the last 5 bytes are literals and no match starts in the last 12.
 * Returns the block's length, or 0 if memory ran out. */
size_t lz4_block_pack(const uint8_t *in, size_t n, uint8_t *out);

#endif
