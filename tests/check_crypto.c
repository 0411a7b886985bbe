/*
 * The boot policies' crypto (src/iap_crypto.h), on the libraries both targets link: SHA-256
 * against FIPS 180-2's examples, fed whole and in pieces that cross every block boundary;
 * P-256 public keys checked as they are loaded; ECDSA P-256 verification against RFC 6979's
 * test vectors (A.2.5, SHA-256), and every way a signature can be out of range or altered.
 * The other tests sign with iapd-image (mbed TLS) and verify through the policies; these pin
 * the verifier alone to published values.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iap_crypto.h"
#include "testlib.h"

/* Decodes exactly n bytes of hex. */
static void unhex(uint8_t *out, size_t n, const char *hex)
{
  ck_assert_uint_eq(strlen(hex), 2 * n);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
    out[i] = (uint8_t)v;
  }
}

static void assert_digest(const uint8_t got[IAP_SHA256_BYTES], const char *want_hex)
{
  uint8_t want[IAP_SHA256_BYTES];
  unhex(want, sizeof(want), want_hex);
  ck_assert_mem_eq(got, want, sizeof(want));
}

START_TEST(sha256_fips_examples)
{
  static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  uint8_t d[IAP_SHA256_BYTES];

  iap_sha256("abc", 3, d);
  assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  iap_sha256("", 0, d);
  assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  iap_sha256(two_blocks, strlen(two_blocks), d);
  assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

/* A million 'a', in pieces of 1 to 130 bytes: every offset of a piece within a 64-byte block,
 * pieces that end a block exactly, and pieces longer than two blocks. */
START_TEST(sha256_incremental_million_a)
{
  static uint8_t a[130];
  struct iap_sha256 h;
  uint8_t d[IAP_SHA256_BYTES];
  size_t left = 1000000, piece = 1;

  memset(a, 'a', sizeof(a));
  iap_sha256_start(&h);
  while (left > 0) {
    size_t n = piece < left ? piece : left;
    iap_sha256_update(&h, a, n);
    left -= n;
    piece = piece % sizeof(a) + 1;
  }
  iap_sha256_finish(&h, d);
  assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* RFC 6979, A.2.5: the P-256 key, and the SHA-256 signatures of "sample" and "test". */
#define RFC_UX "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
#define RFC_UY "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
#define SAMPLE_R "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
#define SAMPLE_S "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
#define TEST_R "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
#define TEST_S "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"
/* The curve's field prime p and group order n. */
#define P256_P "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
#define P256_N "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"

static void rfc_key(struct iap_pubkey *k)
{
  memset(k, 0, sizeof(*k));
  unhex(k->point, IAP_P256_POINT_BYTES, "04" RFC_UX RFC_UY);
}

static void sig_of(uint8_t sig[IAP_P256_SIG_BYTES], const char *r_hex, const char *s_hex)
{
  unhex(sig, IAP_P256_SIG_BYTES / 2, r_hex);
  unhex(sig + IAP_P256_SIG_BYTES / 2, IAP_P256_SIG_BYTES / 2, s_hex);
}

START_TEST(pubkey_checked_as_loaded)
{
  struct iap_pubkey k;
  uint8_t want_id[IAP_KEY_ID_BYTES];

  rfc_key(&k);
  ck_assert(iap_pubkey_init(&k));
  unhex(want_id, sizeof(want_id), "b18b86ce1389e46d");  /* SHA-256 of the 65-byte point */
  ck_assert_mem_eq(k.id, want_id, sizeof(want_id));
  /* loading checks the point and leaves it as it was */
  uint8_t point[IAP_P256_POINT_BYTES];
  unhex(point, sizeof(point), "04" RFC_UX RFC_UY);
  ck_assert_mem_eq(k.point, point, sizeof(point));

  rfc_key(&k);
  k.point[64] ^= 0x01;  /* y changed: off the curve */
  ck_assert(!iap_pubkey_init(&k));
  rfc_key(&k);
  k.point[0] = 0x02;  /* a compressed point's tag on an uncompressed point */
  ck_assert(!iap_pubkey_init(&k));
  rfc_key(&k);
  unhex(k.point + 1, 32, P256_P);  /* x = p: not a field element */
  ck_assert(!iap_pubkey_init(&k));
  memset(k.point + 1, 0, 64);  /* (0, 0), the usual encoding of the point at infinity */
  k.point[0] = 0x04;
  ck_assert(!iap_pubkey_init(&k));
}
END_TEST

START_TEST(ecdsa_rfc6979_vectors)
{
  struct iap_pubkey k;
  uint8_t sample[IAP_SHA256_BYTES], test[IAP_SHA256_BYTES], sig[IAP_P256_SIG_BYTES];

  rfc_key(&k);
  ck_assert(iap_pubkey_init(&k));
  iap_sha256("sample", 6, sample);
  iap_sha256("test", 4, test);

  sig_of(sig, SAMPLE_R, SAMPLE_S);
  ck_assert(iap_ecdsa_p256_verify(&k, sample, sig));
  ck_assert(!iap_ecdsa_p256_verify(&k, test, sig));
  sig_of(sig, TEST_R, TEST_S);
  ck_assert(iap_ecdsa_p256_verify(&k, test, sig));
  ck_assert(!iap_ecdsa_p256_verify(&k, sample, sig));
  /* r and s swapped */
  sig_of(sig, TEST_S, TEST_R);
  ck_assert(!iap_ecdsa_p256_verify(&k, test, sig));

  /* any one bit of the signature, or of the hash, changed */
  for (unsigned bit = 0; bit < 8 * IAP_P256_SIG_BYTES; bit++) {
    sig_of(sig, SAMPLE_R, SAMPLE_S);
    sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    ck_assert_msg(!iap_ecdsa_p256_verify(&k, sample, sig), "signature bit %u", bit);
  }
  sig_of(sig, SAMPLE_R, SAMPLE_S);
  for (unsigned bit = 0; bit < 8 * IAP_SHA256_BYTES; bit++) {
    sample[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    ck_assert_msg(!iap_ecdsa_p256_verify(&k, sample, sig), "hash bit %u", bit);
    sample[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  ck_assert(iap_ecdsa_p256_verify(&k, sample, sig));
}
END_TEST

START_TEST(ecdsa_out_of_range_refused)
{
  static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
  struct iap_pubkey k, other;
  uint8_t sample[IAP_SHA256_BYTES], sig[IAP_P256_SIG_BYTES];

  rfc_key(&k);
  ck_assert(iap_pubkey_init(&k));
  iap_sha256("sample", 6, sample);

  sig_of(sig, zero, SAMPLE_S);
  ck_assert(!iap_ecdsa_p256_verify(&k, sample, sig));
  sig_of(sig, SAMPLE_R, zero);
  ck_assert(!iap_ecdsa_p256_verify(&k, sample, sig));
  sig_of(sig, P256_N, SAMPLE_S);
  ck_assert(!iap_ecdsa_p256_verify(&k, sample, sig));
  sig_of(sig, SAMPLE_R, P256_N);
  ck_assert(!iap_ecdsa_p256_verify(&k, sample, sig));
  /* n - s verifies as s does: ECDSA has both, and what the board authenticates is the image's
   * hash, not the trailer's bytes. */
  sig_of(sig, SAMPLE_R, "0834e36ad29a83bf2bc9385e491d6099c8fdf9d1ed67aa7ea5f51f93782857a9");
  ck_assert(iap_ecdsa_p256_verify(&k, sample, sig));

  /* the right signature under another valid key: the generator's point, with no relation to
   * the RFC's private key */
  memset(&other, 0, sizeof(other));
  unhex(other.point, IAP_P256_POINT_BYTES,
        "04" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  ck_assert(iap_pubkey_init(&other));
  sig_of(sig, SAMPLE_R, SAMPLE_S);
  ck_assert(!iap_ecdsa_p256_verify(&other, sample, sig));
}
END_TEST

static Suite *crypto_suite(void)
{
  Suite *s = suite_create("crypto");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, sha256_fips_examples);
  tcase_add_test(tc, sha256_incremental_million_a);
  tcase_add_test(tc, pubkey_checked_as_loaded);
  tcase_add_test(tc, ecdsa_rfc6979_vectors);
  tcase_add_test(tc, ecdsa_out_of_range_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(crypto_suite());
}
