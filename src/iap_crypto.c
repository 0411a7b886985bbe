/* SHA-256 and ECDSA P-256 verification over mbed TLS (see iap_crypto.h). */
#include "iap_crypto.h"

#include <string.h>

#include "iap_opts.h"

#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/sha256.h"

_Static_assert(sizeof(struct iap_sha256) >= sizeof(mbedtls_sha256_context),
               "struct iap_sha256 must hold an mbedtls_sha256_context");

static mbedtls_sha256_context *ctx_of(struct iap_sha256 *h)
{
  return (mbedtls_sha256_context *)(void *)h->opaque;
}

/* The *_ret forms cannot fail for SHA-256 in software (mbed TLS 2.28); their results are
 * ignored on purpose. */
void iap_sha256_start(struct iap_sha256 *h)
{
  mbedtls_sha256_init(ctx_of(h));
  (void)mbedtls_sha256_starts_ret(ctx_of(h), 0);
}

void iap_sha256_update(struct iap_sha256 *h, const void *data, size_t len)
{
  (void)mbedtls_sha256_update_ret(ctx_of(h), data, len);
}

void iap_sha256_finish(struct iap_sha256 *h, uint8_t out[IAP_SHA256_BYTES])
{
  (void)mbedtls_sha256_finish_ret(ctx_of(h), out);
  mbedtls_sha256_free(ctx_of(h));
}

void iap_sha256(const void *data, size_t len, uint8_t out[IAP_SHA256_BYTES])
{
  struct iap_sha256 h;
  iap_sha256_start(&h);
  iap_sha256_update(&h, data, len);
  iap_sha256_finish(&h, out);
}

#if IAP_WITH_SIGNATURE
/* The group and the point; false when the point is not a valid P-256 public key. */
static bool load_key(mbedtls_ecp_group *grp, mbedtls_ecp_point *q, const uint8_t *point)
{
  return mbedtls_ecp_group_load(grp, MBEDTLS_ECP_DP_SECP256R1) == 0
         && mbedtls_ecp_point_read_binary(grp, q, point, IAP_P256_POINT_BYTES) == 0
         && mbedtls_ecp_check_pubkey(grp, q) == 0;
}

bool iap_pubkey_init(struct iap_pubkey *key)
{
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  uint8_t digest[IAP_SHA256_BYTES];
  bool ok;

  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&q);
  ok = key->point[0] == 0x04 && load_key(&grp, &q, key->point);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  iap_sha256(key->point, IAP_P256_POINT_BYTES, digest);
  memcpy(key->id, digest, IAP_KEY_ID_BYTES);
  return ok;
}

bool iap_ecdsa_p256_verify(const struct iap_pubkey *key, const uint8_t hash[IAP_SHA256_BYTES],
                           const uint8_t sig[IAP_P256_SIG_BYTES])
{
  mbedtls_ecp_group grp;
  mbedtls_ecp_point q;
  mbedtls_mpi r, s;
  bool ok;

  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&q);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  ok = load_key(&grp, &q, key->point)
       && mbedtls_mpi_read_binary(&r, sig, IAP_P256_SIG_BYTES / 2) == 0
       && mbedtls_mpi_read_binary(&s, sig + IAP_P256_SIG_BYTES / 2, IAP_P256_SIG_BYTES / 2) == 0
       && mbedtls_ecdsa_verify(&grp, hash, IAP_SHA256_BYTES, &q, &r, &s) == 0;
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&r);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_group_free(&grp);
  return ok;
}
#else
/* Built without signature support (IAP_WITH_SIGNATURE 0): no key, no signature verifies, and
 * the link leaves out mbed TLS's bignum and curve code. */
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
