/*
 * The size report's "+verify-bearssl" row (firmware.mk): what BearSSL's SHA-256 and ECDSA
 * P-256 verification cost in flash, measured by linking them into the all-features build,
 * to compare with the mbed TLS the boot policies use (the `signature` row). Not a verified
 * boot: main.c calls verify_probe() in IAP mode, on the user flash and a signature and key
 * read from it, and logs the result; nothing acts on it. VERIFY_PROBE is 2 (BearSSL); 1, the
 * mbed TLS probe, became the real thing (src/iap_crypto.c).
 */
#include "verify_probe.h"

#if VERIFY_PROBE == 2

#include "bearssl_ec.h"
#include "bearssl_hash.h"

bool verify_probe(const uint8_t *image, size_t len, const uint8_t *key65, const uint8_t *sig,
                  size_t sig_len)
{
  br_sha256_context sha;
  unsigned char hash[32];
  br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)(uintptr_t)key65, 65 };

  br_sha256_init(&sha);
  br_sha256_update(&sha, image, len);
  br_sha256_out(&sha, hash);
  return br_ecdsa_i15_vrfy_asn1(&br_ec_prime_i15, hash, sizeof(hash), &pk, sig, sig_len) == 1;
}

#endif
