/*
 * mbed TLS for the bootloader: SHA-256 and ECDSA P-256 verification, nothing else (the
 * firmware builds mbed TLS 2.28 from Debian's source package, fetched into
 * third_party/mbedtls by scripts/bootstrap.sh). Selected with
 * -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' by firmware/firmware.mk.
 */
#ifndef IAPD_MBEDTLS_CONFIG_H
#define IAPD_MBEDTLS_CONFIG_H

#define MBEDTLS_HAVE_ASM
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER              /* rolled loop: smaller, a little slower */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C                /* ecdsa.c needs it; the board reads r || s */
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
/* Verification uses only public data: no blinding, so no random numbers and no DRBG. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECP_WINDOW_SIZE 2           /* RAM and code over speed */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_MPI_MAX_SIZE 32
#define MBEDTLS_MPI_WINDOW_SIZE 1
/* No heap on the board (firmware/no_heap.c): bignums come from a static pool instead. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS

#include "mbedtls/check_config.h"

#endif
