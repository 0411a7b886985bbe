/*
 * The bootloader has no heap: lwIP allocates from its own pools and heap (lwipopts.h), every
 * other buffer is static. newlib-nano's printf core still refers to malloc/free, for the
 * growing buffers of asprintf(); snprintf() never takes that path. These definitions stand in
 * for newlib's allocator, so no allocator (and no _sbrk) is linked, and an allocation that
 * should never happen fails instead of carving into the stack.
 */
#include <stddef.h>

struct _reent;

void *_malloc_r(struct _reent *r, size_t size);
void _free_r(struct _reent *r, void *p);
void *_realloc_r(struct _reent *r, void *p, size_t size);

__attribute__((used)) void *_malloc_r(struct _reent *r, size_t size)
{
  (void)r;
  (void)size;
  return NULL;
}

__attribute__((used)) void _free_r(struct _reent *r, void *p)
{
  (void)r;
  (void)p;
}

__attribute__((used)) void *_realloc_r(struct _reent *r, void *p, size_t size)
{
  (void)r;
  (void)p;
  (void)size;
  return NULL;
}
