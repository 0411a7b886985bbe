/*
 * The STM324xG-EVAL's part of the board seam (src/board.h): the Key button on PG15 (pressed
 * pulls it low), and the jump to the application with everything the bootloader set up
 * undone first.
 */
#ifndef IAPD_BOARD_STM32_H
#define IAPD_BOARD_STM32_H

#include <stdint.h>

/* PG15 as an input with pull-up. */
void board_key_init(void);

/* Resets the chip (SYSRESETREQ), after the log line in progress has left the UART. */
void board_system_reset(void) __attribute__((noreturn));

#endif
