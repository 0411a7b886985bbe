/*
 * A flash device (src/flash.h) over the chip model (flash_model.h): each range programmed as
 * the widest aligned accesses (word, then half-word and byte at the edges) of the firmware's
 * driver leave it, in one pass (flash_model_program_range), and sync to a backing store (the
 * mmap'd file, flash_file.h) when there is one.
 */
#ifndef IAPD_FLASH_MODEL_DEV_H
#define IAPD_FLASH_MODEL_DEV_H

#include "flash.h"
#include "flash_model.h"

struct flash_model_dev {
  struct flash_model *model;
  enum flash_result (*sync)(void *ctx);   /* NULL: the model lives in memory only */
  void *sync_ctx;
  struct flash_dev dev;                   /* what the bootloader and the writer get */
};

/* Returns &d->dev, the device over m; m (and sync_ctx) must outlive it. */
const struct flash_dev *flash_model_dev_init(struct flash_model_dev *d, struct flash_model *m,
                                             enum flash_result (*sync)(void *ctx),
                                             void *sync_ctx);

#endif
