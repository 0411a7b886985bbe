/*
 * The STM32F405/407 flash driver: erase, program and read of the main flash through the FLASH
 * interface registers (RM0090 section 3), with the flash device's contract (src/flash.h):
 *  - every operation unlocks FLASH_CR with the KEYR sequence and locks it again before it
 *    returns, so a stray store between operations cannot program anything;
 *  - erase uses PSIZE x32 (the eval board runs at 3.3 V); programming stores words with
 *    PSIZE x32 and the unaligned edges of a range with x16/x8, PSIZE set to match each store;
 *  - BSY is polled before and after every operation; every error flag is mapped to a
 *    flash_result: WRPERR -> PROTECTED, PGAERR -> ALIGN, PGPERR -> PARALLELISM,
 *    PGSERR/OPERR -> SEQUENCE, a KEYR sequence that leaves LOCK set -> LOCKED;
 *  - the flash data cache is flushed after each change, so reads see the new contents.
 * All accesses go through mmio.h, so the host tests run this file against a register model.
 * Not reentrant: call from the main loop only (the bootloader programs no flash in interrupts).
 */
#ifndef IAPD_FLASH_STM32_H
#define IAPD_FLASH_STM32_H

#include <stddef.h>
#include <stdint.h>

#include "flash.h"

enum flash_result flash_stm32_erase_sector(unsigned sector);
enum flash_result flash_stm32_program(uint32_t addr, const void *data, size_t len);
enum flash_result flash_stm32_read(uint32_t addr, void *buf, size_t len);

/* The driver as a flash device: flash_stm32_dev on the chip, where sync has nothing to do. A
 * host running the driver over a register model of a chip kept in a file builds its own
 * device from flash_stm32_ops with a struct flash_stm32_backing as the context: its sync
 * makes the file durable. */
struct flash_stm32_backing {
  enum flash_result (*sync)(void *ctx);
  void *ctx;
};
extern const struct flash_dev_ops flash_stm32_ops;
extern const struct flash_dev flash_stm32_dev;

#endif
