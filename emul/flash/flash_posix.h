/*
 * The flash seam (src/flash.h) for the emulated board: routes erase/program/read to a flash
 * model, programming each range with the widest aligned accesses (word, then half-word and
 * byte at the edges), and flash_sync() to the backing store.
 */
#ifndef IAPD_FLASH_POSIX_H
#define IAPD_FLASH_POSIX_H

#include "flash_model.h"

/* sync may be NULL (a model in memory only). */
void flash_posix_attach(struct flash_model *m, enum flash_result (*sync)(void *ctx),
                        void *ctx);

/* Another implementation of erase/program/read to route the seam through, e.g. the STM32
 * FLASH driver over the register model (emul/flash_regs_model.h); flash_sync() still goes to
 * the backing store. */
struct flash_posix_route {
  enum flash_result (*erase_sector)(unsigned sector);
  enum flash_result (*program)(uint32_t addr, const void *data, size_t len);
  enum flash_result (*read)(uint32_t addr, void *buf, size_t len);
};

/* route NULL (the default): straight to the attached model. */
void flash_posix_set_route(const struct flash_posix_route *route);

#endif
