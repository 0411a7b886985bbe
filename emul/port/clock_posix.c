/* sys_now() for the emulated board. */
#include "clock_posix.h"

#include <time.h>

#include "lwip/arch.h"
#include "lwip/sys.h"

static uint64_t lost_us;

uint64_t clock_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t clock_now_ms(void)
{
  return (uint32_t)(clock_now_us() / 1000u);
}

void clock_board_stalled(uint64_t stall_us)
{
  if (stall_us > 1000u)
    lost_us += stall_us - 1000u;  /* the one pending SysTick runs when the stall ends */
}

uint32_t clock_board_lost_ms(void)
{
  return (uint32_t)(lost_us / 1000u);
}

u32_t sys_now(void)
{
  static uint32_t last;
  uint32_t now = (uint32_t)((clock_now_us() - lost_us) / 1000u);
  /* Never backwards, even if called during a stall (the chip's clock stands still then). */
  if ((int32_t)(now - last) > 0)
    last = now;
  return last;
}
