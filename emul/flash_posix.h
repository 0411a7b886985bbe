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

#endif
