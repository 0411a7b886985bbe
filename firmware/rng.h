/*
 * The STM32F407's true random number generator (RM0090 section 24), clocked by the PLL's
 * 48 MHz output: the board's random op (board_stm32.c), for session tokens and lwIP's
 * LWIP_RAND.
 * Every value passes the continuous test RM0090 24.3.1 asks for (never equal to the one
 * before; the first after enabling is only kept for that comparison); a seed or clock error
 * restarts the generator, and the values being read when it happened are dropped.
 */
#ifndef IAPD_RNG_H
#define IAPD_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One 32-bit value; false when the generator reports errors or stays silent. */
bool rng_read32(uint32_t *out);

/* len random bytes; false when the generator fails. */
bool rng_read_bytes(void *buf, size_t len);

#endif
