/* netascii decoding (src/netascii.c): exact bytes, across chunk boundaries, round trips. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netascii.h"
#include "testlib.h"

#define GUARD 0xA5

/* Decodes `in` as chunks of the given sizes (the rest as the last chunk), then finishes,
 * checking every call writes no more than it returns and at most len + 1 bytes.
 * Returns the decoded length; out must hold len + 1 bytes. */
static size_t decode_chunked(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
                             uint8_t *out)
{
  struct netascii_decoder d;
  uint8_t *buf = malloc(len + 2);
  size_t pos = 0, n = 0;
  ck_assert_ptr_nonnull(buf);
  netascii_init(&d);
  for (size_t c = 0; c <= ncuts; c++) {
    size_t end = c < ncuts ? cuts[c] : len;
    ck_assert_uint_le(pos, end);
    memset(buf, GUARD, len + 2);
    size_t got = netascii_decode(&d, in + pos, end - pos, buf);
    ck_assert_uint_le(got, end - pos + 1);
    ck_assert_uint_eq(buf[end - pos + 1], GUARD);  /* never past len + 1 */
    if (got < end - pos + 1)
      ck_assert_uint_eq(buf[got], GUARD);
    memcpy(out + n, buf, got);
    n += got;
    pos = end;
  }
  memset(buf, GUARD, 2);
  size_t fin = netascii_finish(&d, buf);
  ck_assert_uint_le(fin, 1);
  ck_assert_uint_eq(buf[fin], GUARD);
  memcpy(out + n, buf, fin);
  n += fin;
  ck_assert_uint_eq(netascii_finish(&d, buf), 0);  /* finish consumed the state */
  free(buf);
  return n;
}

static void check_decode(const char *in, size_t in_len, const char *want, size_t want_len)
{
  uint8_t out[256];
  ck_assert_uint_lt(in_len, sizeof(out));
  size_t n = decode_chunked((const uint8_t *)in, in_len, NULL, 0, out);
  ck_assert_uint_eq(n, want_len);
  ck_assert_mem_eq(out, want, want_len);
}

#define DECODES(in, want) check_decode(in, sizeof(in) - 1, want, sizeof(want) - 1)

START_TEST(cr_nul_is_cr)
{
  DECODES("a\r\0b", "a\rb");
  DECODES("\r\0", "\r");
  DECODES("\r\0\r\0\r\0", "\r\r\r");
}
END_TEST

START_TEST(cr_lf_is_lf)
{
  DECODES("a\r\nb", "a\nb");
  DECODES("\r\n", "\n");
  DECODES("line 1\r\nline 2\r\n", "line 1\nline 2\n");
}
END_TEST

START_TEST(plain_bytes_untouched)
{
  uint8_t in[255], out[256];
  size_t k = 0;
  for (unsigned b = 0; b < 256; b++)
    if (b != '\r')
      in[k++] = (uint8_t)b;
  ck_assert_uint_eq(k, sizeof(in));
  size_t n = decode_chunked(in, sizeof(in), NULL, 0, out);
  ck_assert_uint_eq(n, sizeof(in));
  ck_assert_mem_eq(out, in, sizeof(in));
  /* A lone LF and a lone NUL are data. */
  DECODES("\n\0\n", "\n\0\n");
}
END_TEST

START_TEST(cr_then_other_byte)
{
  DECODES("\rA", "\rA");
  DECODES("x\r\xff", "x\r\xff");
  DECODES("\r\r\n", "\r\n");
  DECODES("\r\r\0", "\r\r");
  DECODES("\r\r\r", "\r\r\r");
}
END_TEST

START_TEST(trailing_cr_kept_by_finish)
{
  struct netascii_decoder d;
  uint8_t out[8];
  netascii_init(&d);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"ab\r", 3, out), 2);
  ck_assert_mem_eq(out, "ab", 2);
  ck_assert_uint_eq(netascii_finish(&d, out), 1);
  ck_assert_uint_eq(out[0], '\r');
  ck_assert_uint_eq(netascii_finish(&d, out), 0);
  /* Nothing pending: finish writes nothing. */
  netascii_init(&d);
  out[0] = GUARD;
  ck_assert_uint_eq(netascii_finish(&d, out), 0);
  ck_assert_uint_eq(out[0], GUARD);
  /* init drops a pending CR. */
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"\r", 1, out), 0);
  netascii_init(&d);
  ck_assert_uint_eq(netascii_finish(&d, out), 0);
}
END_TEST

START_TEST(empty_chunk_keeps_state)
{
  struct netascii_decoder d;
  uint8_t out[8];
  netascii_init(&d);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"\r", 1, out), 0);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"", 0, out), 0);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"\n", 1, out), 1);
  ck_assert_uint_eq(out[0], '\n');
}
END_TEST

START_TEST(cr_held_over_chunk_boundary)
{
  struct netascii_decoder d;
  uint8_t out[8];
  netascii_init(&d);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"a\r", 2, out), 1);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"\0b\r", 3, out), 2);
  ck_assert_mem_eq(out, "\rb", 2);
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"\nc\r", 3, out), 2);
  ck_assert_mem_eq(out, "\nc", 2);
  /* The held CR comes out first, before a whole chunk of plain bytes: len + 1 bytes. */
  ck_assert_uint_eq(netascii_decode(&d, (const uint8_t *)"xyz", 3, out), 4);
  ck_assert_mem_eq(out, "\rxyz", 4);
}
END_TEST

/* Every split of a vector that has each kind of pair, into two and into three chunks. */
START_TEST(split_at_every_position)
{
  static const char in[] = "A\r\0B\r\nC\r\r\n\rD\r\0\r\n\n\0\r";
  static const char want[] = "A\rB\nC\r\n\rD\r\n\n\0\r";
  const size_t len = sizeof(in) - 1, want_len = sizeof(want) - 1;
  uint8_t out[64];
  for (size_t i = 0; i <= len; i++) {
    size_t cuts1[1] = { i };
    size_t n = decode_chunked((const uint8_t *)in, len, cuts1, 1, out);
    ck_assert_msg(n == want_len && memcmp(out, want, want_len) == 0, "split at %zu", i);
    for (size_t j = i; j <= len; j++) {
      size_t cuts2[2] = { i, j };
      n = decode_chunked((const uint8_t *)in, len, cuts2, 2, out);
      ck_assert_msg(n == want_len && memcmp(out, want, want_len) == 0, "split at %zu, %zu",
                    i, j);
    }
  }
  /* One byte at a time. */
  size_t cuts[sizeof(in)];
  for (size_t i = 0; i < len; i++)
    cuts[i] = i + 1;
  size_t n = decode_chunked((const uint8_t *)in, len, cuts, len, out);
  ck_assert_uint_eq(n, want_len);
  ck_assert_mem_eq(out, want, want_len);
}
END_TEST

/* tftp-hpa's client (common/tftpsubs.c) sends a file in netascii as: LF -> CR LF,
 * CR -> CR NUL, every other byte as is. Returns the encoded length; out holds 2 * len. */
static size_t encode_like_tftp_hpa(const uint8_t *in, size_t len, uint8_t *out)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == '\n') {
      out[n++] = '\r';
      out[n++] = '\n';
    } else if (in[i] == '\r') {
      out[n++] = '\r';
      out[n++] = '\0';
    } else {
      out[n++] = in[i];
    }
  }
  return n;
}

START_TEST(round_trip_random)
{
  enum { LEN = 40000, MAX_CUTS = 2000 };
  uint8_t *file = malloc(LEN), *wire = malloc(2 * LEN), *back = malloc(2 * LEN + 1);
  size_t *cuts = malloc(MAX_CUTS * sizeof(*cuts));
  uint32_t rng = 0xC0FFEE01u + (uint32_t)_i;
  ck_assert(file && wire && back && cuts);

  /* Binary with many CR, LF and NUL, in runs, so every pairing occurs. */
  for (size_t i = 0; i < LEN; i++) {
    uint32_t r = tl_rand(&rng);
    static const uint8_t special[] = { '\r', '\n', '\0', '\r', '\r' };
    file[i] = (r & 3) ? special[(r >> 8) % sizeof(special)] : (uint8_t)(r >> 24);
  }
  file[LEN - 1] = '\r';  /* ends in CR NUL on the wire */
  size_t wire_len = encode_like_tftp_hpa(file, LEN, wire);

  /* Chunks of 1 to 600 bytes, then the fixed 512 of TFTP blocks. */
  size_t ncuts = 0, pos = 0;
  while (ncuts < MAX_CUTS) {
    pos += 1 + tl_rand(&rng) % 600;
    if (pos >= wire_len)
      break;
    cuts[ncuts++] = pos;
  }
  size_t n = decode_chunked(wire, wire_len, cuts, ncuts, back);
  ck_assert_uint_eq(n, LEN);
  ck_assert_mem_eq(back, file, LEN);

  ncuts = 0;
  for (pos = 512; pos < wire_len && ncuts < MAX_CUTS; pos += 512)
    cuts[ncuts++] = pos;
  n = decode_chunked(wire, wire_len, cuts, ncuts, back);
  ck_assert_uint_eq(n, LEN);
  ck_assert_mem_eq(back, file, LEN);

  free(file);
  free(wire);
  free(back);
  free(cuts);
}
END_TEST

static Suite *netascii_suite(void)
{
  Suite *s = suite_create("netascii");
  TCase *tc = tcase_create("decode");
  tcase_add_test(tc, cr_nul_is_cr);
  tcase_add_test(tc, cr_lf_is_lf);
  tcase_add_test(tc, plain_bytes_untouched);
  tcase_add_test(tc, cr_then_other_byte);
  tcase_add_test(tc, trailing_cr_kept_by_finish);
  tcase_add_test(tc, empty_chunk_keeps_state);
  tcase_add_test(tc, cr_held_over_chunk_boundary);
  tcase_add_test(tc, split_at_every_position);
  suite_add_tcase(s, tc);

  tc = tcase_create("round trip");
  tcase_add_loop_test(tc, round_trip_random, 0, 8);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(netascii_suite());
}
