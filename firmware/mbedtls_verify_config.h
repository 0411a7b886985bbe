/*
 * mbed TLS 2.28 (Debian's source package, fetched into third_party/mbedtls by
 * scripts/bootstrap.sh crypto), configured for what a verified boot needs and nothing more:
 * SHA-256 for the image's integrity, ECDSA P-256 signature verification (the signature as
 * DER, as MCUboot's image_ec256.c reads it), bignums no larger than the curve. Built with
 * -DMBEDTLS_CONFIG_FILE='"mbedtls_verify_config.h"' by firmware.mk, for every build: the
 * boot policies (src/iap_crypto.c) hash with it, and verify signatures under `signature`.
 *
 * No heap of the C library: mbed TLS's bignums allocate from a static buffer
 * (MBEDTLS_MEMORY_BUFFER_ALLOC_C, IAP_MBEDTLS_HEAP_BYTES in mbedtls_alloc.c).
 */
#ifndef IAPD_MBEDTLS_VERIFY_CONFIG_H
#define IAPD_MBEDTLS_VERIFY_CONFIG_H

/* What the chip has and has not. */
#define MBEDTLS_HAVE_ASM                /* the Cortex-M4's UMAAL in bignum multiplication */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_NO_UDBL_DIVISION        /* no 64-bit division in bignum.c */

/* Allocation from a static buffer, the C library's calloc/free never called. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
/* The allocator stops the program when it finds its heap corrupted: on the board, a loop
 * where a debugger sees it (mbedtls_alloc.c), not the C library's exit(). */
void iap_mbedtls_exit(int status);
#define MBEDTLS_PLATFORM_EXIT_MACRO     iap_mbedtls_exit

/* Integrity: SHA-256, the smaller of its two loops. */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* Signatures: ECDSA verification on secp256r1 only. Verification handles public data only:
 * no blinding, so no random generator inside ECP. */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C            /* ecdsa.c requires it; verification writes nothing */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
/* No MBEDTLS_ECP_NIST_OPTIM: its fast P-256 reduction is 816 B more; the generic one makes a
 * verification slower, once per boot. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_ECP_MAX_BITS            256
#define MBEDTLS_MPI_MAX_SIZE            32
#define MBEDTLS_MPI_WINDOW_SIZE         1
#define MBEDTLS_ECP_WINDOW_SIZE         2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM   0

#include "mbedtls/check_config.h"

#endif
