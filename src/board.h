/*
 * Board seam: what the boot logic needs from the board it runs on. emul/board_posix.c is the
 * emulated STM324xG-EVAL (Key is a flag set by option or signal); the firmware reads PG15.
 */
#ifndef IAPD_BOARD_H
#define IAPD_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True while the Key button is held (the eval board's Key is on PG15). */
bool board_key_pressed(void);

/* Hands the chip to the application: MSP and PC as read from its vector table (PC with the
 * Thumb bit). Does not return on the real chip; the emulator reports it and stops the IAP
 * services, as the application now owns the board. */
void board_jump_to_application(uint32_t msp, uint32_t pc);

/* Fills buf with len bytes from a random source fit for session tokens (the host's
 * getrandom(); the STM32's RNG peripheral on the board). False when none is available. */
bool board_random_bytes(void *buf, size_t len);

#endif
