/*
 * Clocks and time of the bootloader: 168 MHz from the 25 MHz HSE through the PLL, flash wait
 * states and the ART accelerator, SysTick at 1 ms for lwIP's sys_now(); and the way back to
 * the reset state before the jump, so the application starts as from a reset.
 */
#ifndef IAPD_CLOCK_H
#define IAPD_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

enum clock_source { CLOCK_PLL_HSE, CLOCK_PLL_HSI, CLOCK_HSI_ONLY };

/* Called by the reset handler: PLL from HSE (or from HSI when the crystal does not start),
 * SysTick on. */
void clock_init(void);

/* Which source clock_init() ended up on, for the log. */
enum clock_source clock_source(void);

/* SYSCLK and APB1 (USART3) frequencies as set. */
uint32_t clock_sysclk_hz(void);
uint32_t clock_apb1_hz(void);

/* Busy wait, for the few microsecond delays the hardware asks for. */
void clock_delay_us(uint32_t us);

/* SysTick off, HSI as SYSCLK, PLL and HSE off, RCC and FLASH_ACR at their reset values. */
void clock_deinit(void);

void SysTick_Handler(void);

#endif
