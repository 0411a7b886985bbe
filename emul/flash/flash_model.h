/*
 * The STM32F407's main flash as the chip behaves (RM0090 section 3): 12 sectors (4 x 16 KiB,
 * 1 x 64 KiB, 7 x 128 KiB) over a 1 MiB buffer whose byte i is address 0x08000000 + i.
 * Erase sets a sector to 0xFF; programming stores old AND new (bits only go 1 -> 0); byte,
 * half-word and word accesses must be aligned to their width (PGAERR); a write-protected
 * sector refuses erase and program and is left as it was (WRPERR). Counts erases per sector.
 */
#ifndef IAPD_FLASH_MODEL_H
#define IAPD_FLASH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash.h"
#include "stm32f407.h"

struct flash_model {
  uint8_t *mem;                 /* STM32_FLASH_SIZE bytes */
  uint32_t protected_sectors;   /* bit n set: sector n write protected */
  uint32_t erase_count[STM32_FLASH_SECTOR_COUNT];
  uint32_t program_accesses;    /* program accesses that changed the array (a range counts
                                 * the accesses a driver would make over it) */
};

void flash_model_init(struct flash_model *m, uint8_t *mem, uint32_t protected_sectors);

enum flash_result flash_model_erase_sector(struct flash_model *m, unsigned sector);

/* Programs `width` bytes (1, 2 or 4) of value, little-endian, at addr (aligned to width). */
enum flash_result flash_model_program(struct flash_model *m, uint32_t addr, uint32_t value,
                                      unsigned width);

/* Programs len bytes of data at addr: the flash the widest aligned accesses of
 * flash_model_program() over the range leave (old AND new), without a call per access. On an
 * access the chip refuses (a protected sector, past the end of flash) it stops with that error,
 * the bytes before it programmed, as the accesses would. */
enum flash_result flash_model_program_range(struct flash_model *m, uint32_t addr,
                                            const uint8_t *data, size_t len);

enum flash_result flash_model_read(const struct flash_model *m, uint32_t addr, void *buf,
                                   size_t len);

/* True when every byte of the sector is 0xFF. */
bool flash_model_sector_erased(const struct flash_model *m, unsigned sector);

#endif
