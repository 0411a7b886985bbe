/*
 * The PLL at 168 MHz and the way back to the clocks of a reset: shared by the program
 * (clock.c, from HSE) and the unpacking stub (unpack_stub.c, from HSI, for the unpacking
 * only), so that both set and undo the clock tree the same way.
 */
#ifndef IAPD_CLOCK_PLL_H
#define IAPD_CLOCK_PLL_H

#include <stdbool.h>
#include <stdint.h>

/* Polls reg until (reg & mask) == value, for some 100 ms at most; false if it never was. */
bool clock_wait(volatile uint32_t *reg, uint32_t mask, uint32_t value);

/* SYSCLK = PLL at 168 MHz from the HSE (hse true: already running) or the 16 MHz HSI, with
 * the bus prescalers and flash wait states that needs first. False if the PLL did not lock
 * or SYSCLK did not switch: then SYSCLK is still the HSI (QEMU, which models no RCC). */
bool clock_pll_start(bool hse);

/* HSI as SYSCLK, PLL and HSE off, RCC_CFGR, RCC_PLLCFGR and FLASH_ACR at their reset values
 * (caches off and reset): what follows starts on the clocks of a reset. */
void clock_reset_state(void);

#endif
