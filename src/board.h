/*
 * The board seam: what the bootloader flow (bootloader.h) needs from the board it runs on,
 * as an ops table and its context. emul/daemon/ supplies the emulated STM324xG-EVAL (Key is a
 * flag set by option, signal or the board page; the jump is reported), firmware/ the real one
 * (Key on PG15, the Cortex-M jump, the RNG peripheral, the Ethernet MAC). Every operation is
 * used by the flow; nothing else in src/ reaches the board.
 */
#ifndef IAPD_BOARD_H
#define IAPD_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netif;

struct board_ops {
  /* True while the Key button is held (read at reset; the eval board's Key is on PG15). */
  bool (*key_pressed)(void *ctx);
  /* Hands the chip to the application: MSP and PC as read from its vector table (PC with the
   * Thumb bit). Does not return on the chip; the emulator records the application as running
   * and returns. */
  void (*jump)(void *ctx, uint32_t msp, uint32_t pc);
  /* A system reset (RESET MCU on the HTTP page). Does not return on the chip, which comes
   * back through the reset vector; the emulator resets its board and runs
   * bootloader_reset() again. Called from the main loop, never from lwIP's callbacks. */
  void (*system_reset)(void *ctx);
  /* IAP mode needs the network: brings the Ethernet port up and returns its netif, added to
   * lwIP without an address (the flow sets it), or NULL when there is none (the reason is
   * logged). Called at each entry into IAP mode: the emulator hands back the same netif. */
  struct netif *(*netif_start)(void *ctx);
  /* Fills buf with len bytes from a random source fit for session tokens (the host's
   * getrandom(); the STM32's RNG peripheral). False when none is available. */
  bool (*random)(void *ctx, void *buf, size_t len);
};

struct board {
  const struct board_ops *ops;
  void *ctx;
};

#endif
