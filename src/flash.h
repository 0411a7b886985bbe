/*
 * The flash seam: everything IAP code may do to the chip's main flash, through a device
 * handle (as MCUboot's flash_area): an ops table and its context. Each target supplies the
 * devices (emul/flash/ over the emulated chip, or the STM32 FLASH driver over a register
 * model; the driver itself on the board), and whoever starts the bootloader decides which one
 * the flash writer and the boot decision get. Addresses are absolute (0x08000000-based). IAP
 * code never touches flash any other way, so the same code is tested on the host and shipped
 * on the board.
 *
 * Chip semantics every device keeps: erase sets a whole sector to 0xFF; programming stores
 * old AND new (bits only go from 1 to 0); write-protected sectors refuse both and change
 * nothing.
 */
#ifndef IAPD_FLASH_H
#define IAPD_FLASH_H

#include <stddef.h>
#include <stdint.h>

/* 1 (iapd): the flash lives in a store that must be synced and can be lost (the flash file,
 * msync). 0 (the firmware, set by firmware.mk): the flash is the chip's own, where a program
 * operation that completed is in flash: flash_sync() is FLASH_OK without a call, and the code
 * for a store that fails or is lost compiles out, texts included. */
#if !defined FLASH_SYNC_NEEDED
#define FLASH_SYNC_NEEDED 1
#endif

enum flash_result {
  FLASH_OK = 0,
  FLASH_ERR_RANGE,      /* address or length outside the main flash */
  FLASH_ERR_ALIGN,      /* access not aligned to its width (RM0090 PGAERR) */
  FLASH_ERR_PROTECTED,  /* sector is write protected (RM0090 WRPERR) */
  FLASH_ERR_SEQUENCE,   /* programming sequence error (RM0090 PGSERR), driver bug */
  FLASH_ERR_PARALLELISM,/* access width does not match PSIZE (RM0090 PGPERR) */
  FLASH_ERR_LOCKED,     /* control register locked (wrong key sequence) */
  FLASH_ERR_IO,         /* the backing store is lost or could not be synced (FLASH_SYNC_NEEDED) */
  FLASH_ERR_VERIFY,     /* read back differs from what was programmed (iap_program_checked) */
};

/* A short text for a result, for log lines and error messages. */
const char *flash_result_str(enum flash_result r);

struct flash_dev_ops {
  /* Erases sector `sector` (0..11) to 0xFF. */
  enum flash_result (*erase_sector)(void *ctx, unsigned sector);
  /* Programs len bytes at addr with the widest accesses the alignment allows. Stops at the
   * first error; bytes before it may be programmed. */
  enum flash_result (*program)(void *ctx, uint32_t addr, const void *data, size_t len);
  /* Copies len bytes from addr. */
  enum flash_result (*read)(void *ctx, uint32_t addr, void *buf, size_t len);
  /* Makes everything programmed so far durable (msync on the host; nothing on the chip,
   * where a completed program operation already is). FLASH_ERR_IO when it cannot, and for
   * good when the store is lost (iapd's flash file deleted or replaced): the flash writer
   * asks before an upload, so that nothing is taken that would not be kept. */
  enum flash_result (*sync)(void *ctx);
};

struct flash_dev {
  const struct flash_dev_ops *ops;
  void *ctx;
};

static inline enum flash_result flash_erase_sector(const struct flash_dev *f, unsigned sector)
{
  return f->ops->erase_sector(f->ctx, sector);
}

static inline enum flash_result flash_program(const struct flash_dev *f, uint32_t addr,
                                              const void *data, size_t len)
{
  return f->ops->program(f->ctx, addr, data, len);
}

static inline enum flash_result flash_read(const struct flash_dev *f, uint32_t addr, void *buf,
                                           size_t len)
{
  return f->ops->read(f->ctx, addr, buf, len);
}

static inline enum flash_result flash_sync(const struct flash_dev *f)
{
  return FLASH_SYNC_NEEDED ? f->ops->sync(f->ctx) : FLASH_OK;
}

#endif
