/*
 * The LZMA format (the LZMA SDK's lzma-specification.txt; xz's LZMA1), decoded: the
 * bootloader is kept in flash packed in it and unpacked into SRAM at reset
 * (firmware/unpack_stub.c). Portable C, no library call, so that the stub can run it before
 * anything is set up and the host's unit test (tests/check_pack.c) can run the very same
 * code.
 *
 * A block is one properties byte, (pb * 5 + lp) * 9 + lc, then a range-coded stream of
 * literals and matches, as liblzma's raw LZMA1 encoder writes it (tools/fw_pack.c). The
 * decoder is told the output's length and stops there; it needs no end marker and reads no
 * dictionary size: the output buffer is the dictionary.
 *
 * Its only memory is the probability array the caller passes: LZMA_BLOCK_PROBS(lc + lp) 16-bit
 * counters, 9838 bytes for lc + lp = 2, the largest accepted (LZMA_BLOCK_LCLP_MAX).
 */
#ifndef IAPD_LZMA_BLOCK_H
#define IAPD_LZMA_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#define LZMA_BLOCK_LCLP_MAX 2u
#define LZMA_BLOCK_PROBS(lclp) (1847u + (0x300u << (lclp)))
#define LZMA_BLOCK_PROBS_MAX LZMA_BLOCK_PROBS(LZMA_BLOCK_LCLP_MAX)

/* Unpacks the block in[0..in_len) into out[0..out_len), with probs[0..probs_count) as the
 * decoder's state. Returns out_len, or -1 if the block is malformed: bad properties (or
 * lc + lp above LZMA_BLOCK_LCLP_MAX, or more counters than probs_count), a distance before the
 * start of out, a match past out_len, or a stream that ends before out is full. Nothing is
 * read or written outside the three buffers. */
long lzma_block_unpack(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                       uint16_t *probs, size_t probs_count);

#endif
