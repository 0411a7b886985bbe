/*
 * A register-level model of the STM32F405/407 flash interface (RM0090 section 3.5 and 3.9),
 * over the chip model of emul/flash_model.h, and the mmio seam (firmware/mmio.h) on the host:
 * the firmware's flash driver (firmware/flash_stm32.c) runs against it unchanged.
 *
 * What it models, as RM0090 describes the chip:
 *  - FLASH_CR is locked at reset; KEY1 then KEY2 in FLASH_KEYR unlock it; any other KEYR
 *    write is a bus error and leaves it locked until flash_regs_model_reset(); writes to a
 *    locked FLASH_CR are ignored;
 *  - a store to the flash array with PG set programs old AND new; its size must equal PSIZE
 *    (else PGPERR), be aligned to its size (else PGAERR), hit an unprotected sector (else
 *    WRPERR); a store without PG, or with SER/MER, is PGSERR; nothing changes on an error;
 *  - SER + SNB + STRT erases a sector (WRPERR if protected), MER + STRT the whole array;
 *  - operations take time: BSY stays set for `busy_reads` reads of FLASH_SR; an access the
 *    chip would stall on (flash read or store, FLASH_CR write while BSY) completes the
 *    operation first and is counted in `stalls`, so tests can assert the driver polls BSY;
 *  - EOP only with EOPIE, OPERR only with ERRIE; SR flags are cleared by writing 1;
 *  - FLASH_OPTCR reads the option bytes' nWRP bits from the model's protected sectors;
 *  - FLASH_ACR: DCRST/ICRST written while the cache is enabled are ignored and counted.
 * Where RM0090 leaves a combination undefined (SNB 12-15 on a 1 Mbyte part, STRT without
 * SER or MER, SER with PG) the model sets PGSERR: the strictest reading.
 * Fault injection for tests: `inject_sr` makes the next operation fail with those flags;
 * `stuck_psize` (0-3, or -1) pins the PSIZE field, as a driver writing the wrong value would.
 */
#ifndef IAPD_FLASH_REGS_MODEL_H
#define IAPD_FLASH_REGS_MODEL_H

#include <stdint.h>

#include "flash.h"
#include "flash_model.h"
#include "flash_stm32.h"

enum flash_regs_keyr { KEYR_WAIT_KEY1, KEYR_WAIT_KEY2, KEYR_LOCKED_UNTIL_RESET };

struct flash_regs_model {
  struct flash_model *flash;
  /* registers */
  uint32_t acr, sr, cr;
  enum flash_regs_keyr keyr;
  /* the operation in progress while BSY is set */
  enum { OP_NONE, OP_PROGRAM, OP_SECTOR_ERASE, OP_MASS_ERASE } op;
  uint32_t op_addr, op_value;
  unsigned op_width, op_sector;
  unsigned busy_left;
  unsigned last_psize;     /* FLASH_CR.PSIZE when the last operation started (0-3) */
  /* settings */
  unsigned busy_reads;     /* SR reads an operation stays BSY for (default 2) */
  uint32_t inject_sr;      /* error flags for the next operation, then cleared */
  int stuck_psize;         /* -1, or the PSIZE value (0-3) the field is pinned to */
  /* counters for the tests */
  unsigned bus_errors;     /* wrong KEYR sequences */
  unsigned locked_writes;  /* FLASH_CR writes ignored because LOCK was set */
  unsigned stalls;         /* accesses made while BSY */
  unsigned cache_misuse;   /* DCRST/ICRST written with the cache enabled */
  unsigned programs, erases;
  /* the device over the driver (flash_regs_model_dev) */
  struct flash_stm32_backing backing;
  struct flash_dev dev;
};

/* Attaches r (reset) over flash; the mmio seam then reaches it. */
void flash_regs_model_attach(struct flash_regs_model *r, struct flash_model *flash);

/* A chip reset: registers to their reset values (FLASH_CR locked again, KEYR sequence
 * restarted), the operation in progress completed. Settings and counters are kept. */
void flash_regs_model_reset(struct flash_regs_model *r);

/* The flash device iapd --flash-driver stm32 passes to the bootloader: the STM32 driver
 * (firmware/flash_stm32.c) over this model, which must be attached; sync (NULL: none) makes
 * the backing store durable. Returns &r->dev. */
const struct flash_dev *flash_regs_model_dev(struct flash_regs_model *r,
                                             enum flash_result (*sync)(void *ctx),
                                             void *sync_ctx);

#endif
