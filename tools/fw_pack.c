/*
 * fw-pack: the bootloader's program (the .bin of iapd-boot-sram.elf, linked to run in SRAM)
 * packed for flash, as firmware/unpack_stub.c reads it at reset:
 *
 *   bytes 0-3  the program's length, little-endian
 *   bytes 4-7  the packed block's length, little-endian
 *   bytes 8-   the block: the program with its calls' targets made absolute
 *              (firmware/thumb_calls.h), packed as LZMA (firmware/lzma_block.h) or, with
 *              --lz4, as one LZ4 block (firmware/lz4_block.h)
 *
 *   fw-pack [--lz4] PROGRAM.bin PACKED
 *
 * LZMA packs code some 20% smaller than LZ4 and takes the stub 15 to 30 times longer to
 * unpack (firmware/README.md measures both). The LZMA block is liblzma's encoder at its
 * strongest setting, with no end marker; of a few literal-context settings and both match
 * finders, the smallest result is kept.
 *
 * The block is unpacked again with the stub's own decoder and compared byte for byte before
 * PACKED is written: a build never ships an image that would not unpack.
 */
#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lz4_block.h"
#include "lz4_pack.h"
#include "lzma_block.h"
#include "thumb_calls.h"

#define HEADER_BYTES 8u
#define MAX_PROGRAM  (116u * 1024u)   /* the SRAM below the stub's stack (stm32f407-stub.ld) */

static void put_le32(uint8_t *p, size_t v)
{
  for (unsigned i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8u * i));
}

/* program[0..n) as an LZMA block into out (room for out_cap bytes): the properties byte,
 * then liblzma's raw stream. Returns the block's length, 0 if liblzma failed. */
static size_t lzma_pack(const uint8_t *program, size_t n, uint8_t *out, size_t out_cap)
{
  /* lc literal context bits, lp position bits; lc + lp <= LZMA_BLOCK_LCLP_MAX bounds the stub's
   * probability array. pb 1: Thumb code is made of halfwords. */
  static const struct { unsigned lc, lp; } tries[] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 },
                                                      { 2, 0 } };
  /* Either match finder may find the better parse: bt2 was 45 B smaller on http. */
  static const lzma_match_finder finders[] = { LZMA_MF_BT4, LZMA_MF_BT2 };
  uint8_t *trial = malloc(out_cap);
  size_t best = 0;

  for (size_t t = 0; trial != NULL && t < 2 * (sizeof tries / sizeof tries[0]); t++) {
    lzma_options_lzma opt;
    if (lzma_lzma_preset(&opt, 9u | LZMA_PRESET_EXTREME))
      break;
    opt.dict_size = MAX_PROGRAM;
    opt.lc = tries[t / 2].lc;
    opt.lp = tries[t / 2].lp;
    opt.mf = finders[t % 2];
    opt.pb = 1;
    opt.ext_flags = 0;          /* no end marker: the header gives the length */
    lzma_filter filters[] = { { LZMA_FILTER_LZMA1EXT, &opt }, { LZMA_VLI_UNKNOWN, NULL } };
    size_t len = 0;
    trial[0] = (uint8_t)((opt.pb * 5 + opt.lp) * 9 + opt.lc);
    if (lzma_raw_buffer_encode(filters, NULL, program, n, trial + 1, &len, out_cap - 1) != LZMA_OK)
      continue;
    if (best == 0 || len + 1 < best) {
      best = len + 1;
      memcpy(out, trial, best);
    }
  }
  free(trial);
  return best;
}

int main(int argc, char **argv)
{
  int lz4 = argc == 4 && strcmp(argv[1], "--lz4") == 0;
  if (argc != 3 + lz4) {
    fprintf(stderr, "usage: fw-pack [--lz4] PROGRAM.bin PACKED\n");
    return 2;
  }
  const char *in_path = argv[1 + lz4], *out_path = argv[2 + lz4];
  FILE *f = fopen(in_path, "rb");
  if (!f) {
    fprintf(stderr, "fw-pack: %s: %s\n", in_path, strerror(errno));
    return 1;
  }
  static uint8_t program[MAX_PROGRAM + 1], filtered[MAX_PROGRAM];
  size_t n = fread(program, 1, sizeof program, f);
  int read_error = ferror(f);
  fclose(f);
  if (read_error || n == 0 || n > MAX_PROGRAM) {
    fprintf(stderr, "fw-pack: %s: %s\n", in_path,
            read_error ? "read error" : n == 0 ? "empty" : "larger than the 116 KiB of SRAM the stub unpacks it into");
    return 1;
  }
  memcpy(filtered, program, n);
  thumb_calls_absolute(filtered, n);

  size_t cap = LZ4_PACK_BOUND(n) + n / 2 + 4096;  /* either packer's worst case */
  uint8_t *packed = malloc(HEADER_BYTES + cap);
  uint8_t *check = malloc(n);
  uint16_t *probs = malloc(LZMA_BLOCK_PROBS_MAX * sizeof *probs);
  size_t len = 0;
  if (packed && check && probs)
    len = lz4 ? lz4_block_pack(filtered, n, packed + HEADER_BYTES)
              : lzma_pack(filtered, n, packed + HEADER_BYTES, cap);
  if (len == 0) {
    fprintf(stderr, "fw-pack: %s\n", packed && check && probs ? "liblzma could not pack the program" : "out of memory");
    return 1;
  }
  long back = lz4 ? lz4_block_unpack(packed + HEADER_BYTES, len, check, n)
                  : lzma_block_unpack(packed + HEADER_BYTES, len, check, n, probs, LZMA_BLOCK_PROBS_MAX);
  if (back == (long)n)
    thumb_calls_relative(check, n);
  if (back != (long)n || memcmp(check, program, n) != 0) {
    fprintf(stderr, "fw-pack: %s: the packed block does not unpack to the program (a bug in %s)\n",
            in_path, lz4 ? "tools/lz4_pack.c" : "firmware/lzma_block.c or firmware/thumb_calls.c");
    return 1;
  }
  put_le32(packed, n);
  put_le32(packed + 4, len);

  FILE *o = fopen(out_path, "wb");
  if (!o || fwrite(packed, 1, HEADER_BYTES + len, o) != HEADER_BYTES + len || fclose(o) != 0) {
    fprintf(stderr, "fw-pack: %s: %s\n", out_path, strerror(errno));
    remove(out_path);
    return 1;
  }
  free(packed);
  free(check);
  free(probs);
  return 0;
}
