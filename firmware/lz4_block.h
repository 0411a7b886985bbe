/*
 * The LZ4 block format (lz4's doc/lz4_Block_format.md), decoded: the bootloader is kept in
 * flash packed in it and unpacked into SRAM at reset (firmware/unpack_stub.c). Portable C,
 * no library call, so that the stub can run it before anything is set up and the host's unit
 * test (tests/check_lz4.c) can run the very same code.
 *
 * A block is a run of sequences: a token (literal count in its high nibble, match length - 4
 * in its low one; 15 in either means more length bytes follow, each added, until one is not
 * 255), the literals, a 2-byte little-endian offset back into the output (1..65535), then
 * the match is copied from there (it may overlap what it writes). The last sequence ends
 * after its literals.
 */
#ifndef IAPD_LZ4_BLOCK_H
#define IAPD_LZ4_BLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Unpacks the block in[0..in_len) into out[0..out_cap). Returns the bytes written, or -1 if
 * the block is malformed: it ends inside a sequence, an offset reaches before out, or the
 * output would pass out_cap. Nothing is read or written outside the two buffers. */
long lz4_block_unpack(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap);

#endif
