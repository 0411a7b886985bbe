/*
 * The C library's string and memory functions the bootloader calls, written for size:
 * newlib-nano's are tuned for speed (word loops, unrolled: strcmp alone is 732 bytes on the
 * Cortex-M4). These byte loops are some 250 bytes in all. The biggest copies (a 1514-byte
 * frame into a pbuf) take about 6 us at 168 MHz, against 120 us for the frame on the wire.
 * The linker takes these before libc.a's, which it reads only for symbols still undefined.
 *
 * GCC must not see the loops as memset/memcpy and call them from themselves.
 */
#include <stddef.h>
#include <string.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n-- > 0)
      *d++ = *s++;
  } else {
    while (n-- > 0)
      d[n] = s[n];
  }
  return dst;
}

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
  unsigned char *d = dst;
  while (n-- > 0)
    *d++ = (unsigned char)c;
  return dst;
}

NO_LIBCALL int memcmp(const void *a, const void *b, size_t n)
{
  const unsigned char *p = a, *q = b;
  for (; n > 0; n--, p++, q++)
    if (*p != *q)
      return *p - *q;
  return 0;
}

NO_LIBCALL size_t strlen(const char *s)
{
  const char *p = s;
  while (*p != '\0')
    p++;
  return (size_t)(p - s);
}

NO_LIBCALL int strncmp(const char *a, const char *b, size_t n)
{
  for (; n > 0; n--, a++, b++)
    if (*a != *b || *a == '\0')
      return (unsigned char)*a - (unsigned char)*b;
  return 0;
}

NO_LIBCALL int strcmp(const char *a, const char *b)
{
  for (; *a == *b && *a != '\0'; a++, b++)
    ;
  return (unsigned char)*a - (unsigned char)*b;
}

NO_LIBCALL char *strchr(const char *s, int c)
{
  for (;; s++) {
    if (*s == (char)c)
      return (char *)s;
    if (*s == '\0')
      return NULL;
  }
}

NO_LIBCALL char *strcpy(char *restrict dst, const char *restrict src)
{
  memcpy(dst, src, strlen(src) + 1);
  return dst;
}
