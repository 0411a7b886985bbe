/*
 * How long the STM32F407's flash operations take, from the datasheet (DS8626, "Flash memory
 * programming" and "Flash memory programming with VPP" in the electrical characteristics):
 * one program access, one sector erase by sector size, a mass erase, each for the
 * parallelism FLASH_CR.PSIZE selects (x8, x16, x32; x64 only with an external VPP), typical
 * or maximum. Pure functions, so the unit tests pin every number; flash_silicon.h applies
 * them.
 */
#ifndef IAPD_FLASH_TIMING_H
#define IAPD_FLASH_TIMING_H

#include <stdbool.h>
#include <stdint.h>

enum flash_timing {
  FLASH_TIMING_NONE,     /* operations take no time (iapd's default) */
  FLASH_TIMING_TYPICAL,  /* the datasheet's typical values */
  FLASH_TIMING_MAX,      /* the datasheet's maximum values */
};

/* FLASH_CR.PSIZE (RM0090 3.9.5). */
enum flash_psize { FLASH_PSIZE_X8 = 0, FLASH_PSIZE_X16 = 1, FLASH_PSIZE_X32 = 2,
                   FLASH_PSIZE_X64 = 3 };

/* "none", "typical", "max". */
const char *flash_timing_str(enum flash_timing t);

/* Microseconds of one program access (a byte, half-word, word or double word as PSIZE says):
 * tprog. 0 for FLASH_TIMING_NONE. */
uint32_t flash_timing_program_us(enum flash_timing t, enum flash_psize psize);

/* Microseconds of one sector erase of sector_bytes (16, 64 or 128 KiB: tERASE16KB,
 * tERASE64KB, tERASE128KB); 0 for another size or FLASH_TIMING_NONE. */
uint32_t flash_timing_erase_us(enum flash_timing t, enum flash_psize psize,
                               uint32_t sector_bytes);

/* Microseconds of a mass erase (tME). */
uint32_t flash_timing_mass_erase_us(enum flash_timing t, enum flash_psize psize);

/* us x scale, rounded to the nearest microsecond; scale > 0. */
uint64_t flash_timing_scale_us(uint64_t us, double scale);

#endif
