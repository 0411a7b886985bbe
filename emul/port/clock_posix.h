/* The emulated board's clock: lwIP's sys_now() from CLOCK_MONOTONIC. */
#ifndef IAPD_CLOCK_POSIX_H
#define IAPD_CLOCK_POSIX_H

#include <stdint.h>

/* Milliseconds since an arbitrary start, wrapping at 2^32 like lwIP's sys_now(). */
uint32_t clock_now_ms(void);

#endif
