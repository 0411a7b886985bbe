/*
 * The packed bootloader's format (firmware/lz4_block.c, the decoder the stub runs at reset;
 * tools/lz4_pack.c, the packer fw-pack runs at build time). Blocks written here by hand from
 * the format's definition decode to their exact bytes; the packer writes exact bytes for a
 * small input, keeps the format's end rules, and round-trips inputs of every shape; every
 * malformed block is refused without a byte written outside the output buffer.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lz4_block.h"
#include "lz4_pack.h"
#include "testlib.h"

#define GUARD 0x5Au

/* Decodes into a buffer of cap bytes with guard bytes after it; fails if any guard changed. */
static long unpack_guarded(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
  uint8_t *buf = malloc(cap + 16);
  ck_assert_ptr_nonnull(buf);
  memset(buf, GUARD, cap + 16);
  long n = lz4_block_unpack(in, len, buf, cap);
  for (size_t i = cap; i < cap + 16; i++)
    ck_assert_uint_eq(buf[i], GUARD);
  memcpy(out, buf, cap);
  free(buf);
  return n;
}

/* "abcd", then 8 bytes from 4 back, then "XYZWV" as the last sequence's literals. */
static const uint8_t small_block[] = { 0x44, 'a', 'b', 'c', 'd', 0x04, 0x00,
                                       0x50, 'X', 'Y', 'Z', 'W', 'V' };
static const char small_text[] = "abcdabcdabcdXYZWV";

START_TEST(hand_made_blocks)
{
  uint8_t out[400];
  ck_assert_int_eq(unpack_guarded(small_block, sizeof small_block, out, sizeof out), 17);
  ck_assert_mem_eq(out, small_text, 17);

  /* A match that overlaps what it writes: "a", then 10 bytes from 1 back, then "b". */
  static const uint8_t run[] = { 0x16, 'a', 0x01, 0x00, 0x10, 'b' };
  ck_assert_int_eq(unpack_guarded(run, sizeof run, out, sizeof out), 12);
  ck_assert_mem_eq(out, "aaaaaaaaaaab", 12);

  /* 300 literals (15 + 255 + 30) and a match of 4 + 15 + 255 + 1 = 275 bytes. */
  uint8_t lits[3 + 300 + 2 + 2 + 1];
  size_t k = 0;
  lits[k++] = 0xFF;
  lits[k++] = 255;
  lits[k++] = 30;
  for (unsigned i = 0; i < 300; i++)
    lits[k++] = (uint8_t)i;
  lits[k++] = 0x2C;                 /* offset 300 */
  lits[k++] = 0x01;
  lits[k++] = 255;
  lits[k++] = 1;
  lits[k++] = 0x00;                 /* the last sequence: no literals */
  static uint8_t big[600];
  ck_assert_int_eq(unpack_guarded(lits, k, big, sizeof big), 575);
  for (unsigned i = 0; i < 575; i++)
    ck_assert_uint_eq(big[i], (uint8_t)(i % 300));

  /* Nothing at all: one token, no literals. */
  static const uint8_t empty[] = { 0x00 };
  ck_assert_int_eq(unpack_guarded(empty, 1, out, sizeof out), 0);
}
END_TEST

START_TEST(malformed_blocks_refused)
{
  uint8_t out[64];
  /* No token. */
  ck_assert_int_eq(unpack_guarded(small_block, 0, out, sizeof out), -1);
  /* Literals past the input's end. */
  static const uint8_t short_lits[] = { 0x40, 'a', 'b' };
  ck_assert_int_eq(unpack_guarded(short_lits, sizeof short_lits, out, sizeof out), -1);
  /* A length run that the input ends inside. */
  static const uint8_t open_length[] = { 0xF0, 255, 255 };
  ck_assert_int_eq(unpack_guarded(open_length, sizeof open_length, out, sizeof out), -1);
  /* Half an offset. */
  static const uint8_t half_offset[] = { 0x10, 'a', 0x01 };
  ck_assert_int_eq(unpack_guarded(half_offset, sizeof half_offset, out, sizeof out), -1);
  /* Offset 0, and an offset before the output's start. */
  static const uint8_t zero_offset[] = { 0x10, 'a', 0x00, 0x00, 0x10, 'b' };
  ck_assert_int_eq(unpack_guarded(zero_offset, sizeof zero_offset, out, sizeof out), -1);
  static const uint8_t far_offset[] = { 0x10, 'a', 0x02, 0x00, 0x10, 'b' };
  ck_assert_int_eq(unpack_guarded(far_offset, sizeof far_offset, out, sizeof out), -1);
  /* A match with no sequence after it (a block never ends on a match). */
  static const uint8_t ends_on_match[] = { 0x10, 'a', 0x01, 0x00 };
  ck_assert_int_eq(unpack_guarded(ends_on_match, sizeof ends_on_match, out, sizeof out), -1);
  /* Output larger than the buffer, by the literals and by the match: 16 fits, 15 does not. */
  ck_assert_int_eq(unpack_guarded(small_block, sizeof small_block, out, 16), -1);
  ck_assert_int_eq(unpack_guarded(small_block, sizeof small_block, out, 11), -1);
  ck_assert_int_eq(unpack_guarded(small_block, sizeof small_block, out, 3), -1);
  ck_assert_int_eq(unpack_guarded(small_block, sizeof small_block, out, 17), 17);
  /* Every prefix of a valid block: refused, or fewer bytes than the whole. */
  for (size_t len = 0; len < sizeof small_block; len++)
    ck_assert_int_lt(unpack_guarded(small_block, len, out, sizeof out), 17);
}
END_TEST

START_TEST(packer_exact_bytes)
{
  uint8_t out[LZ4_PACK_BOUND(17)];
  size_t n = lz4_block_pack((const uint8_t *)small_text, 17, out);
  ck_assert_uint_eq(n, sizeof small_block);
  ck_assert_mem_eq(out, small_block, sizeof small_block);

  /* Too short for any match (the last 12 bytes never start one): literals only. */
  n = lz4_block_pack((const uint8_t *)"aaaaaaaaaaaa", 12, out);
  ck_assert_uint_eq(n, 13);
  ck_assert_uint_eq(out[0], 0xC0);
  ck_assert_mem_eq(out + 1, "aaaaaaaaaaaa", 12);

  n = lz4_block_pack((const uint8_t *)"", 0, out);
  ck_assert_uint_eq(n, 1);
  ck_assert_uint_eq(out[0], 0x00);
}
END_TEST

/* Walks a block's sequences and checks the end rules lz4's own decoder relies on: the last
 * five bytes are literals, and the last match starts at least 12 bytes before the end. */
static void check_end_rules(const uint8_t *b, size_t len, size_t total)
{
  size_t ip = 0, out = 0, last_match_start = 0, last_match_end = 0;
  int any_match = 0;
  for (;;) {
    unsigned token = b[ip++];
    size_t n = token >> 4;
    if (n == 15) {
      unsigned c;
      do { c = b[ip++]; n += c; } while (c == 255);
    }
    ip += n;
    out += n;
    if (ip == len)
      break;
    ip += 2;
    size_t m = token & 15u;
    if (m == 15) {
      unsigned c;
      do { c = b[ip++]; m += c; } while (c == 255);
    }
    any_match = 1;
    last_match_start = out;
    out += m + 4;
    last_match_end = out;
  }
  ck_assert_uint_eq(out, total);
  if (any_match) {
    ck_assert_uint_le(last_match_start + 12, total);
    ck_assert_uint_le(last_match_end + 5, total);
  }
}

static void round_trip(const uint8_t *in, size_t n)
{
  uint8_t *packed = malloc(LZ4_PACK_BOUND(n));
  uint8_t *back = malloc(n + 1);
  ck_assert_ptr_nonnull(packed);
  ck_assert_ptr_nonnull(back);
  size_t len = lz4_block_pack(in, n, packed);
  ck_assert_uint_gt(len, 0);
  ck_assert_uint_le(len, LZ4_PACK_BOUND(n));
  check_end_rules(packed, len, n);
  ck_assert_int_eq(unpack_guarded(packed, len, back, n), (long)n);
  ck_assert_int_eq(memcmp(back, in, n), 0);
  /* One byte less room: refused. */
  if (n > 0)
    ck_assert_int_eq(unpack_guarded(packed, len, back, n - 1), -1);
  free(packed);
  free(back);
}

START_TEST(round_trips)
{
  enum { N = 100000 };
  uint8_t *buf = malloc(N);
  ck_assert_ptr_nonnull(buf);

  /* Every length up to 80 of text with repeats. */
  for (size_t i = 0; i < N; i++)
    buf[i] = (uint8_t)"the image is linked for 0x08010000 "[i % 35];
  for (size_t n = 0; n <= 80; n++)
    round_trip(buf, n);
  round_trip(buf, N);

  /* Bytes that do not repeat: the block grows by the length bytes only. */
  uint32_t seed = 7;
  for (size_t i = 0; i < N; i++)
    buf[i] = (uint8_t)tl_rand(&seed);
  round_trip(buf, N);

  /* Erased flash (runs longer than a 16-bit offset reaches), then code-like words. */
  memset(buf, 0xFF, N);
  round_trip(buf, N);
  for (size_t i = 0; i < N; i += 4) {
    uint32_t w = 0x4770B500u ^ (tl_rand(&seed) & 0x0303030Fu);
    memcpy(buf + i, &w, 4);
  }
  round_trip(buf, N);

  /* A match at the largest offset, 65535, and one just past it (which must not be used). */
  memset(buf, 0, N);
  for (size_t i = 0; i < 70000; i++)
    buf[i] = (uint8_t)tl_rand(&seed);
  memcpy(buf + 65535 + 100, buf + 100, 64);
  round_trip(buf, 70000);
  free(buf);
}
END_TEST

static Suite *lz4_suite(void)
{
  Suite *s = suite_create("lz4");
  TCase *tc = tcase_create("lz4");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, hand_made_blocks);
  tcase_add_test(tc, malformed_blocks_refused);
  tcase_add_test(tc, packer_exact_bytes);
  tcase_add_test(tc, round_trips);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(lz4_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
