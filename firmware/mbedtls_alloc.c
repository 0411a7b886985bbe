/*
 * mbed TLS's calloc/free on a board without a C heap (no_heap.c): mbed TLS's own allocator
 * over a static buffer (MBEDTLS_MEMORY_BUFFER_ALLOC_C, mbedtls_verify_config.h), set up once
 * at reset. Only the bignums of one ECDSA P-256 verification under `signature` allocate;
 * SHA-256 takes none.
 */
#include "mbedtls/memory_buffer_alloc.h"

/* One P-256 verification, window size 2, no fixed-point tables: about 3 KiB of bignums at
 * its peak, plus the allocator's headers. */
#if !defined IAP_MBEDTLS_HEAP_BYTES
#define IAP_MBEDTLS_HEAP_BYTES 6144u
#endif

void iap_mbedtls_alloc_init(void);
void iap_mbedtls_exit(int status);

void iap_mbedtls_alloc_init(void)
{
  static unsigned char heap[IAP_MBEDTLS_HEAP_BYTES];
  mbedtls_memory_buffer_alloc_init(heap, sizeof(heap));
}

/* The allocator stops the program when it finds its heap corrupted: a loop where a debugger
 * sees it, not the C library's exit(). */
void iap_mbedtls_exit(int status)
{
  (void)status;
  for (;;)
    ;
}
