/*
 * mbed TLS 2.28 (Debian's source package, fetched into third_party/mbedtls by
 * scripts/bootstrap.sh crypto), configured for the one thing the firmware takes from it:
 * SHA-256, for the image's integrity (src/iap_sha256.c). Built with
 * -DMBEDTLS_CONFIG_FILE='"mbedtls_sha256_config.h"' by firmware.mk, for every build. The
 * signature's ECDSA P-256 comes from BearSSL (src/iap_ecdsa.c). SHA-256 allocates nothing.
 */
#ifndef IAPD_MBEDTLS_SHA256_CONFIG_H
#define IAPD_MBEDTLS_SHA256_CONFIG_H

#define MBEDTLS_NO_PLATFORM_ENTROPY

/* SHA-256, the smaller of its two loops: 316 B of compression function on the Cortex-M4,
 * where BearSSL's is 796 B. */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

#include "mbedtls/check_config.h"

#endif
