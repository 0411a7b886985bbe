/* The emulated board's clock: lwIP's sys_now() from CLOCK_MONOTONIC, less the time the board's
 * SysTick lost to flash stalls. */
#ifndef IAPD_CLOCK_POSIX_H
#define IAPD_CLOCK_POSIX_H

#include <stdint.h>

/* Milliseconds since an arbitrary start, wrapping at 2^32 like lwIP's sys_now(). */
uint32_t clock_now_ms(void);

/* Microseconds since the same start, for flash timing; does not wrap. */
uint64_t clock_now_us(void);

/* A stall of stall_us ended. On the chip, the CPU fetching from the flash being programmed
 * stalls, SysTick's handler cannot run, and of the ticks that came due one stays pending: the
 * firmware's sys_now() (a millisecond tick counter) lost all but one millisecond of the
 * stall. sys_now() loses the same from now on; clock_now_ms() (the control server's time) does
 * not. */
void clock_board_stalled(uint64_t stall_us);

/* The board's sys_now() (less the stalls), and since power-on of the process: the ms lost. */
uint32_t clock_board_lost_ms(void);

#endif
