/*
 * The STM324xG-EVAL as the bootloader's board (src/board.h): the Key button on PG15 (pressed
 * pulls it low), the jump to the application with everything the bootloader set up undone
 * first, the system reset, the Ethernet port (eth_stm32.h) and the RNG peripheral (rng.h).
 */
#ifndef IAPD_BOARD_STM32_H
#define IAPD_BOARD_STM32_H

#include <stdint.h>

#include "board.h"

/* PG15 as an input with pull-up; before the first reset decision. */
void board_key_init(void);

extern const struct board board_stm32;

#endif
