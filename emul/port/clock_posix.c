/* sys_now() for the emulated board. */
#include "clock_posix.h"

#include <time.h>

#include "lwip/arch.h"
#include "lwip/sys.h"

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
