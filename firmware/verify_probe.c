/*
 * The size report's "+verify" rows (firmware.mk): what the verified boot's integrity and
 * signature checks would cost in flash, measured by linking them into the all-features build.
 * Not a verified boot: main.c calls verify_probe() in IAP mode, on the user flash and a
 * signature and key read from it, and logs the result; nothing acts on it. VERIFY_PROBE is
 * 1 for mbed TLS (mbedtls_verify_config.h), 2 for BearSSL.
 */
#include "verify_probe.h"

#if VERIFY_PROBE == 1

#include "mbedtls/ecdsa.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/sha256.h"

void verify_probe_exit(int status)
{
  (void)status;
  for (;;)
    ;
}

/* mbed TLS's bignums for one P-256 verification (window size 2, no fixed-point tables). */
#define VERIFY_HEAP_BYTES 4096u

bool verify_probe(const uint8_t *image, size_t len, const uint8_t *key65, const uint8_t *sig,
                  size_t sig_len)
{
  static unsigned char heap[VERIFY_HEAP_BYTES];
  unsigned char hash[32];
  mbedtls_ecdsa_context ecdsa;
  bool ok = false;

  mbedtls_memory_buffer_alloc_init(heap, sizeof(heap));
  if (mbedtls_sha256_ret(image, len, hash, 0) != 0)
    return false;
  mbedtls_ecdsa_init(&ecdsa);
  if (mbedtls_ecp_group_load(&ecdsa.grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
      mbedtls_ecp_point_read_binary(&ecdsa.grp, &ecdsa.Q, key65, 65) == 0 &&
      mbedtls_ecdsa_read_signature(&ecdsa, hash, sizeof(hash), sig, sig_len) == 0)
    ok = true;
  mbedtls_ecdsa_free(&ecdsa);
  return ok;
}

#elif VERIFY_PROBE == 2

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
