/*
 * The packed bootloader's default format: firmware/lzma_block.c, the LZMA decoder the stub
 * runs at reset, and firmware/thumb_calls.c, the call rewriting fw-pack applies before
 * packing and the stub undoes after. liblzma, the encoder fw-pack uses, is the oracle: its
 * blocks, under every literal-context setting fw-pack tries, decode to the exact input; a
 * block captured from it decodes to its exact text, and its end marker is refused as a
 * distance; every truncated, corrupted or mislabelled block is refused or stays inside the
 * output buffer. BL fields are rewritten to the exact bytes the Thumb-2 encoding gives.
 */
#include <check.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lzma_block.h"
#include "thumb_calls.h"

#define GUARD 0x5Au

static uint16_t probs[LZMA_BLOCK_PROBS_MAX];

/* Decodes into a buffer of out_len bytes with guard bytes after it; fails if a guard
 * changed. out may be NULL. */
static long unpack_guarded(const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
  uint8_t *buf = malloc(out_len + 16);
  ck_assert_ptr_nonnull(buf);
  memset(buf, GUARD, out_len + 16);
  long n = lzma_block_unpack(in, len, buf, out_len, probs, LZMA_BLOCK_PROBS_MAX);
  for (size_t i = out_len; i < out_len + 16; i++)
    ck_assert_uint_eq(buf[i], GUARD);
  if (out != NULL)
    memcpy(out, buf, out_len);
  free(buf);
  return n;
}

/* in[0..n) packed as fw-pack packs it: the properties byte, then liblzma's raw stream with
 * no end marker. Returns the block's length. */
static size_t pack(const uint8_t *in, size_t n, unsigned lc, unsigned lp, unsigned pb,
                   uint8_t *out, size_t cap)
{
  lzma_options_lzma opt;
  ck_assert(!lzma_lzma_preset(&opt, 9u | LZMA_PRESET_EXTREME));
  opt.dict_size = 1u << 17;
  opt.lc = lc;
  opt.lp = lp;
  opt.pb = pb;
  opt.ext_flags = 0;
  lzma_filter filters[] = { { LZMA_FILTER_LZMA1EXT, &opt }, { LZMA_VLI_UNKNOWN, NULL } };
  size_t len = 0;
  out[0] = (uint8_t)((pb * 5 + lp) * 9 + lc);
  ck_assert_int_eq(lzma_raw_buffer_encode(filters, NULL, in, n, out + 1, &len, cap - 1), LZMA_OK);
  return len + 1;
}

/* Inputs of the shapes a program has: text, noise, erased flash, code-like halfwords, and
 * machine code (this test's own executable: the matches at the last four distances that
 * only real code makes the encoder use). */
static size_t make_input(unsigned kind, uint8_t *buf, size_t n)
{
  if (kind == 4) {
    FILE *f = fopen("/proc/self/exe", "rb");
    ck_assert_ptr_nonnull(f);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    ck_assert_uint_ge(got, n < 4096 ? n : 4096);
    return got;
  }
  uint32_t x = 2463534242u + kind;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    switch (kind) {
    case 0: buf[i] = (uint8_t)"image linked for 0x08000000, expected 0x08010000 "[i % 50]; break;
    case 1: buf[i] = (uint8_t)x; break;
    case 2: buf[i] = 0xFF; break;
    default: buf[i] = (i & 1) ? (uint8_t)(0xB0 | (x & 0x0F)) : (uint8_t)(x & 0x3F); break;
    }
  }
  return n;
}

/* liblzma's raw LZMA1, lc 1 lp 1 pb 1, with its end marker, for this text. */
static const char captured_text[] = "hello, hello, hello! IAP IAP IAP";
static const uint8_t captured[] = { 0x37, 0x00, 0x34, 0x19, 0x4a, 0x5a, 0xa1, 0xbd, 0xe0,
  0x42, 0x82, 0xde, 0x63, 0x4c, 0xa0, 0x63, 0x14, 0xba, 0xf9, 0x77, 0xff, 0xff, 0xfb, 0x95,
  0x00, 0x00 };

START_TEST(captured_block)
{
  uint8_t out[64];
  ck_assert_int_eq(unpack_guarded(captured, sizeof captured, out, 32), 32);
  ck_assert_mem_eq(out, captured_text, 32);
  /* One byte more: what follows is the end marker, a distance of 2^32 - 1: refused. */
  ck_assert_int_eq(unpack_guarded(captured, sizeof captured, NULL, 33), -1);
  /* Fewer bytes: the decoder stops at the length it is given, between two literals; a
   * length that ends inside a match (the second "hello" is one) is refused. */
  ck_assert_int_eq(unpack_guarded(captured, sizeof captured, out, 5), 5);
  ck_assert_mem_eq(out, "hello", 5);
  ck_assert_int_eq(unpack_guarded(captured, sizeof captured, NULL, 10), -1);
}
END_TEST

START_TEST(round_trips)
{
  static const struct { unsigned lc, lp, pb; } settings[] = {
    { 0, 0, 0 }, { 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 1 }, { 2, 0, 1 }, { 0, 2, 2 }, { 0, 0, 4 },
  };
  static uint8_t in[100000], packed[120000], out[100000];
  static const size_t sizes[] = { 1, 2, 17, 4096, 40000, 100000 };

  for (unsigned kind = 0; kind < 5; kind++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
      for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        if (sizes[s] > 40000 && kind != 4)
          continue;
        size_t n = make_input(kind, in, sizes[s]);
        size_t len = pack(in, n, settings[k].lc, settings[k].lp, settings[k].pb, packed,
                          sizeof packed);
        ck_assert_int_eq(unpack_guarded(packed, len, out, n), (long)n);
        ck_assert_mem_eq(out, in, n);
      }
}
END_TEST

START_TEST(malformed_blocks)
{
  static uint8_t in[4096], packed[8192], out[4096];
  size_t n = make_input(0, in, 2048);
  n += make_input(3, in + n, 2048);
  size_t len = pack(in, n, 1, 1, 1, packed, sizeof packed);

  /* Every truncation: refused, the guards intact. */
  for (size_t cut = 0; cut < len; cut++)
    ck_assert_int_eq(unpack_guarded(packed, cut, out, n), -1);
  /* More output asked than the block holds. */
  ck_assert_int_eq(unpack_guarded(packed, len, NULL, n + 1), -1);

  /* Properties: lc + lp above what the stub's array holds, or no such value. */
  uint8_t bad[sizeof packed];
  memcpy(bad, packed, len);
  bad[0] = (uint8_t)((1 * 5 + 2) * 9 + 1);    /* lc 1 lp 2 */
  ck_assert_int_eq(unpack_guarded(bad, len, out, n), -1);
  bad[0] = 3;                                  /* lc 3 */
  ck_assert_int_eq(unpack_guarded(bad, len, out, n), -1);
  bad[0] = 225;
  ck_assert_int_eq(unpack_guarded(bad, len, out, n), -1);
  /* The range coder's first byte is always 0. */
  memcpy(bad, packed, len);
  bad[1] = 1;
  ck_assert_int_eq(unpack_guarded(bad, len, out, n), -1);
  /* Too few counters for the properties. */
  ck_assert_int_eq(lzma_block_unpack(packed, len, out, n, probs, LZMA_BLOCK_PROBS(2) - 1), -1);
  ck_assert_int_eq(lzma_block_unpack(packed, len, out, n, probs, LZMA_BLOCK_PROBS(2)), (long)n);

  /* Each byte of the stream changed: the decoder ends (refusing, or with other bytes), and
   * writes nothing past the output. Most changes are refused. */
  unsigned refused = 0;
  for (size_t i = 2; i < len; i++) {
    memcpy(bad, packed, len);
    bad[i] ^= 0x55;
    long r = unpack_guarded(bad, len, out, n);
    ck_assert(r == -1 || r == (long)n);
    refused += r == -1;
  }
  ck_assert_uint_gt(refused, (len - 2) / 2);
}
END_TEST

/* BL at 0x100 to 0x200, and at 0x200 to 0x100 (little-endian halfwords, the fields in
 * halfwords from the call + 4): both become the target's offset, 0x100 and 0x80 halfwords. */
START_TEST(calls_rewritten)
{
  uint8_t code[0x400];
  memset(code, 0, sizeof code);
  static const uint8_t fwd[] = { 0x00, 0xF0, 0x7E, 0xF8 }, back[] = { 0xFF, 0xF7, 0x7E, 0xFF };
  memcpy(code + 0x100, fwd, 4);
  memcpy(code + 0x200, back, 4);
  /* A second call to 0x200, from 0x300: distance -0x104, the same target. */
  static const uint8_t back2[] = { 0xFF, 0xF7, 0x7E, 0xFF };
  memcpy(code + 0x300, back2, 4);
  code[0x302] = 0x7E;           /* 0x200 - 0x304 = -0x104: field 0x3FFF7E */
  uint8_t orig[sizeof code];
  memcpy(orig, code, sizeof code);

  thumb_calls_absolute(code, sizeof code);
  static const uint8_t to_200[] = { 0x00, 0xF0, 0x00, 0xF9 }, to_100[] = { 0x00, 0xF0, 0x80, 0xF8 };
  ck_assert_mem_eq(code + 0x100, to_200, 4);
  ck_assert_mem_eq(code + 0x200, to_100, 4);
  ck_assert_mem_eq(code + 0x300, to_200, 4);
  for (size_t i = 0; i < sizeof code; i++)
    if (i < 0x100 || (i >= 0x104 && i < 0x200) || (i >= 0x204 && i < 0x300) || i >= 0x304)
      ck_assert_uint_eq(code[i], 0);
  thumb_calls_relative(code, sizeof code);
  ck_assert_mem_eq(code, orig, sizeof code);

  /* Any bytes, BL-like or not, odd lengths included, come back unchanged. */
  static uint8_t noise[4097], copy[4097];
  for (unsigned kind = 1; kind < 4; kind++) {
    make_input(kind, noise, sizeof noise);
    for (size_t i = 0; i + 4 < sizeof noise; i += 64) {
      noise[i + 1] = (uint8_t)(0xF0 | (noise[i + 1] & 7));   /* looks like a BL */
      noise[i + 3] |= 0xF8;
    }
    memcpy(copy, noise, sizeof noise);
    thumb_calls_absolute(noise, sizeof noise);
    ck_assert(memcmp(noise, copy, sizeof noise) != 0);
    thumb_calls_relative(noise, sizeof noise);
    ck_assert_mem_eq(noise, copy, sizeof noise);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("lzma");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, captured_block);
  tcase_add_test(tc, round_trips);
  tcase_add_test(tc, malformed_blocks);
  tcase_add_test(tc, calls_rewritten);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
