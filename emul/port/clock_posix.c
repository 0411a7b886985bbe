/* sys_now() and LWIP_RAND() for the emulated board. */
#include "clock_posix.h"

#include <sys/random.h>
#include <time.h>

#include "lwip/arch.h"
#include "lwip/sys.h"
#include "lwipopts.h"

uint32_t clock_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

u32_t sys_now(void)
{
  return clock_now_ms();
}

/* The host's RNG stands in for the STM32's RNG peripheral: TFTP ports, TCP sequence numbers. */
uint32_t iap_random32(void)
{
  uint32_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
    v ^= clock_now_ms() * 2654435761u;
  return v;
}
