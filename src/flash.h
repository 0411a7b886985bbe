/*
 * The flash seam: everything IAP code may do to the chip's main flash. Each target supplies
 * one implementation (emul/flash_posix.c over the emulated chip, the STM32 FLASH driver on the
 * board). Addresses are absolute (0x08000000-based). IAP code never touches flash any other
 * way, so the same code is tested on the host and shipped on the board.
 *
 * Chip semantics every implementation keeps: erase sets a whole sector to 0xFF; programming
 * stores old AND new (bits only go from 1 to 0); write-protected sectors refuse both and
 * change nothing.
 */
#ifndef IAPD_FLASH_H
#define IAPD_FLASH_H

#include <stddef.h>
#include <stdint.h>

enum flash_result {
  FLASH_OK = 0,
  FLASH_ERR_RANGE,      /* address or length outside the main flash */
  FLASH_ERR_ALIGN,      /* access not aligned to its width (RM0090 PGAERR) */
  FLASH_ERR_PROTECTED,  /* sector is write protected (RM0090 WRPERR) */
  FLASH_ERR_SEQUENCE,   /* programming sequence error (RM0090 PGSERR), driver bug */
  FLASH_ERR_PARALLELISM,/* access width does not match PSIZE (RM0090 PGPERR) */
  FLASH_ERR_LOCKED,     /* control register locked (wrong key sequence) */
  FLASH_ERR_IO,         /* the backing store could not be synced (host only) */
};

/* A short text for a result, for log lines and error messages. */
const char *flash_result_str(enum flash_result r);

/* Erases sector `sector` (0..11) to 0xFF. */
enum flash_result flash_erase_sector(unsigned sector);

/* Programs len bytes at addr; the target picks the widest access the alignment allows.
 * Stops at the first error, bytes before it may be programmed. */
enum flash_result flash_program(uint32_t addr, const void *data, size_t len);

/* Copies len bytes from addr. */
enum flash_result flash_read(uint32_t addr, void *buf, size_t len);

/* Makes everything programmed so far durable (msync on the host; nothing on the chip,
 * where a completed program operation already is). */
enum flash_result flash_sync(void);

#endif
