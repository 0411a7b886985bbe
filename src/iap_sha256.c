/* SHA-256 over mbed TLS (see iap_crypto.h). */
#include "iap_crypto.h"

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
