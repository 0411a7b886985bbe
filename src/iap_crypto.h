/*
 * The crypto the boot policies need, and nothing more: SHA-256 (image hashes) and ECDSA
 * P-256 signature verification with one public key. Each comes from the library that is the
 * smaller for it on the firmware, and both targets take it from the same library: SHA-256
 * from mbed TLS (src/iap_sha256.c), ECDSA from BearSSL (src/iap_ecdsa.c); Debian's
 * libmbedcrypto and libbearssl on the host, their sources (Debian's source packages, fetched
 * into third_party/) on the board. Verification uses only public data, so it needs no random
 * numbers.
 */
#ifndef IAPD_IAP_CRYPTO_H
#define IAPD_IAP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IAP_SHA256_BYTES     32u
#define IAP_P256_POINT_BYTES 65u  /* SEC 1 uncompressed point: 0x04 || X || Y */
#define IAP_P256_SIG_BYTES   64u  /* r || s, big-endian, 32 bytes each */
#define IAP_KEY_ID_BYTES     8u   /* the first bytes of SHA-256 of the uncompressed point */

/* An incremental SHA-256; the state is opaque but sized here so callers need no heap. */
struct iap_sha256 {
  uint64_t opaque[16];
};

void iap_sha256_start(struct iap_sha256 *h);
void iap_sha256_update(struct iap_sha256 *h, const void *data, size_t len);
void iap_sha256_finish(struct iap_sha256 *h, uint8_t out[IAP_SHA256_BYTES]);
void iap_sha256(const void *data, size_t len, uint8_t out[IAP_SHA256_BYTES]);

/* A P-256 public key as the board keeps it, and its id. */
struct iap_pubkey {
  uint8_t point[IAP_P256_POINT_BYTES];
  uint8_t id[IAP_KEY_ID_BYTES];
};

/* Fills key->id from key->point; false when the point is not on the curve. */
bool iap_pubkey_init(struct iap_pubkey *key);

/* True when sig (r || s) is key's ECDSA signature of the 32-byte hash. */
bool iap_ecdsa_p256_verify(const struct iap_pubkey *key, const uint8_t hash[IAP_SHA256_BYTES],
                           const uint8_t sig[IAP_P256_SIG_BYTES]);

#endif
