/*
 * CRC-32 (src/crc32.c) in the form this program was built with: check_crc32 links libiap.a's
 * (slice-by-8, iapd's), check_crc32_nibble compiles src/crc32.c with IAP_CRC32_SLICE_BY_8=0
 * (the firmware's). Both against the check value of the standard and a bit-at-a-time CRC
 * written here from the definition, at every length and split the fast form's steps can meet.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "crc32.h"
#include "testlib.h"

/* The definition: reflected polynomial 0xEDB88320, register preset to all ones, result
 * inverted (IEEE 802.3; zlib's crc32()). */
static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) {
    c ^= p[i];
    for (int bit = 0; bit < 8; bit++)
      c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

START_TEST(check_value)
{
  /* The check value of CRC-32 ("123456789"), and nothing at all. */
  ck_assert_uint_eq(crc32_update(0, "123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq(crc32_update(0, "", 0), 0);
  ck_assert_uint_eq(crc32_update(0xCBF43926u, "", 0), 0xCBF43926u);
}
END_TEST

START_TEST(every_length_and_start)
{
  /* Lengths 0..40 at start offsets 0..7: every count of bytes before and after the 8-byte
   * steps, from every alignment. */
  static uint8_t buf[48];
  tl_fill_random(buf, sizeof(buf), 41);
  for (size_t start = 0; start < 8; start++)
    for (size_t len = 0; len + start <= 40; len++)
      ck_assert_msg(crc32_update(0, buf + start, len) == crc32_bitwise(buf + start, len),
                    "start %zu, length %zu", start, len);
}
END_TEST

START_TEST(continued_equals_whole)
{
  /* crc32_update(crc32_update(0, a), b) is the CRC-32 of a then b, at every split: how the
   * writer sums an image that arrives in blocks. */
  static uint8_t buf[3000];
  tl_fill_random(buf, sizeof(buf), 42);
  uint32_t whole = crc32_bitwise(buf, sizeof(buf));
  ck_assert_uint_eq(crc32_update(0, buf, sizeof(buf)), whole);
  for (size_t cut = 0; cut <= sizeof(buf); cut += 7)
    ck_assert_uint_eq(crc32_update(crc32_update(0, buf, cut), buf + cut, sizeof(buf) - cut),
                      whole);
}
END_TEST

START_TEST(all_zero_and_all_ones)
{
  static uint8_t zeros[4096], ones[4096];
  memset(ones, 0xFF, sizeof(ones));
  ck_assert_uint_eq(crc32_update(0, zeros, sizeof(zeros)), crc32_bitwise(zeros, sizeof(zeros)));
  ck_assert_uint_eq(crc32_update(0, ones, sizeof(ones)), crc32_bitwise(ones, sizeof(ones)));
}
END_TEST

static Suite *crc32_suite(void)
{
  Suite *s = suite_create("crc32");
  TCase *tc = tcase_create("crc32");
  tcase_add_test(tc, check_value);
  tcase_add_test(tc, every_length_and_start);
  tcase_add_test(tc, continued_equals_whole);
  tcase_add_test(tc, all_zero_and_all_ones);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(crc32_suite());
}
