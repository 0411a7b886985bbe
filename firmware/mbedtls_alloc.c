/*
 * mbed TLS's calloc/free on a board without a heap (no_heap.c): a first-fit allocator over a
 * static pool, used only by the bignum code of one ECDSA verification at reset. Blocks carry
 * a one-word header (size, low bit: in use); free coalesces with the following free blocks.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mbedtls/platform.h"

#ifndef IAP_MBEDTLS_POOL_BYTES
#define IAP_MBEDTLS_POOL_BYTES 6144u
#endif

static uint32_t pool[IAP_MBEDTLS_POOL_BYTES / 4];
static int ready;

static void *pool_calloc(size_t n, size_t size)
{
  if (!ready) {
    pool[0] = sizeof(pool);  /* one free block: all of it */
    ready = 1;
  }
  if (size != 0 && n > (sizeof(pool) - 4) / size)
    return NULL;
  uint32_t need = (uint32_t)((n * size + 4 + 3) & ~(size_t)3);
  for (uint32_t i = 0; i < sizeof(pool) / 4;) {
    uint32_t h = pool[i], len = h & ~1u;
    if (len == 0)
      return NULL;
    if (!(h & 1u)) {
      /* merge the free blocks after it */
      while (i + len / 4 < sizeof(pool) / 4 && !(pool[i + len / 4] & 1u))
        len += pool[i + len / 4];
      pool[i] = len;
      if (len >= need) {
        if (len - need >= 8u) {
          pool[i + need / 4] = len - need;
          len = need;
        }
        pool[i] = len | 1u;
        memset(&pool[i + 1], 0, len - 4);
        return &pool[i + 1];
      }
    }
    i += len / 4;
  }
  return NULL;
}

static void pool_free(void *p)
{
  if (p != NULL)
    ((uint32_t *)p)[-1] &= ~1u;
}

void iap_mbedtls_alloc_init(void);
void iap_mbedtls_alloc_init(void)
{
  mbedtls_platform_set_calloc_free(pool_calloc, pool_free);
}
