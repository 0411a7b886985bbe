/*
 * ECDSA P-256 verification over BearSSL (see iap_crypto.h): its generic prime-curve code
 * with 15-bit limbs (br_ec_prime_i15), the smallest of its implementations, measured on the
 * firmware's signature build: 4648 B less than mbed TLS's bignums, curves and heap, 3452 B
 * less than BearSSL's P-256-only br_ec_p256_m15, whose unrolled field arithmetic and
 * generator table are built for speed (firmware/README.md). Verification handles public data only, so neither constant
 * time nor a random source matters here, and it allocates nothing.
 */
#include "iap_crypto.h"

#include <string.h>

#include "iap_opts.h"

#if IAP_WITH_SIGNATURE
#include "bearssl_ec.h"

bool iap_pubkey_init(struct iap_pubkey *key)
{
  /* BearSSL checks a point as it decodes it (on the curve, coordinates below p, the
   * uncompressed form): a multiplication by 1 decodes it and changes nothing. */
  static const uint8_t one = 1;
  uint8_t point[IAP_P256_POINT_BYTES];
  uint8_t digest[IAP_SHA256_BYTES];
  bool ok;

  memcpy(point, key->point, sizeof(point));
  ok = br_ec_prime_i15.mul(point, sizeof(point), &one, 1, BR_EC_secp256r1) == 1;
  iap_sha256(key->point, IAP_P256_POINT_BYTES, digest);
  memcpy(key->id, digest, IAP_KEY_ID_BYTES);
  return ok;
}

bool iap_ecdsa_p256_verify(const struct iap_pubkey *key, const uint8_t hash[IAP_SHA256_BYTES],
                           const uint8_t sig[IAP_P256_SIG_BYTES])
{
  /* BearSSL's key type is not const-qualified; verification only reads the point. */
  const br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)(uintptr_t)key->point,
                                IAP_P256_POINT_BYTES };
  return br_ecdsa_i15_vrfy_raw(&br_ec_prime_i15, hash, IAP_SHA256_BYTES, &pk, sig,
                               IAP_P256_SIG_BYTES)
         == 1;
}
#else
/* Built without signature support (IAP_WITH_SIGNATURE 0): no key, no signature verifies, and
 * the link leaves BearSSL out. */
bool iap_pubkey_init(struct iap_pubkey *key)
{
  (void)key;
  return false;
}

bool iap_ecdsa_p256_verify(const struct iap_pubkey *key, const uint8_t hash[IAP_SHA256_BYTES],
                           const uint8_t sig[IAP_P256_SIG_BYTES])
{
  (void)key;
  (void)hash;
  (void)sig;
  return false;
}
#endif
