/*
 * fw-pack: the bootloader's program (the .bin of iapd-boot-sram.elf, linked to run in SRAM)
 * packed for flash, as firmware/unpack_stub.c reads it at reset:
 *
 *   bytes 0-3  the program's length, little-endian
 *   bytes 4-7  the packed block's length, little-endian
 *   bytes 8-   the program as one LZ4 block (firmware/lz4_block.h)
 *
 *   fw-pack PROGRAM.bin PACKED
 *
 * The block is unpacked again with the stub's own decoder and compared byte for byte before
 * PACKED is written: a build never ships an image that would not unpack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lz4_block.h"
#include "lz4_pack.h"

#define HEADER_BYTES 8u
#define MAX_PROGRAM  (128u * 1024u)   /* the STM32F407's SRAM, where it is unpacked */

static void put_le32(uint8_t *p, size_t v)
{
  for (unsigned i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8u * i));
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: fw-pack PROGRAM.bin PACKED\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    fprintf(stderr, "fw-pack: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  static uint8_t program[MAX_PROGRAM + 1];
  size_t n = fread(program, 1, sizeof program, f);
  int read_error = ferror(f);
  fclose(f);
  if (read_error || n == 0 || n > MAX_PROGRAM) {
    fprintf(stderr, "fw-pack: %s: %s\n", argv[1],
            read_error ? "read error" : n == 0 ? "empty" : "larger than the 128 KiB of SRAM it unpacks into");
    return 1;
  }

  uint8_t *packed = malloc(HEADER_BYTES + LZ4_PACK_BOUND(n));
  uint8_t *check = malloc(n);
  size_t len = packed ? lz4_block_pack(program, n, packed + HEADER_BYTES) : 0;
  if (!check || len == 0) {
    fprintf(stderr, "fw-pack: out of memory\n");
    return 1;
  }
  long back = lz4_block_unpack(packed + HEADER_BYTES, len, check, n);
  if (back != (long)n || memcmp(check, program, n) != 0) {
    fprintf(stderr, "fw-pack: %s: the packed block does not unpack to the program (a bug in tools/lz4_pack.c)\n",
            argv[1]);
    return 1;
  }
  put_le32(packed, n);
  put_le32(packed + 4, len);

  FILE *o = fopen(argv[2], "wb");
  if (!o || fwrite(packed, 1, HEADER_BYTES + len, o) != HEADER_BYTES + len || fclose(o) != 0) {
    fprintf(stderr, "fw-pack: %s: %s\n", argv[2], strerror(errno));
    remove(argv[2]);
    return 1;
  }
  free(packed);
  free(check);
  return 0;
}
