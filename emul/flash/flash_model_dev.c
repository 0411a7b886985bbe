/* A flash device over the emulated chip (see flash_model_dev.h). */
#include "flash_model_dev.h"

#include <stddef.h>

static enum flash_result dev_erase_sector(void *ctx, unsigned sector)
{
  struct flash_model_dev *d = ctx;
  return flash_model_erase_sector(d->model, sector);
}

/* One call for the whole range: the per-access loop (a range and protection check and a
 * byte loop per word) took most of iapd's CPU time per upload. */
static enum flash_result dev_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  struct flash_model_dev *d = ctx;
  return flash_model_program_range(d->model, addr, data, len);
}

static enum flash_result dev_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
  struct flash_model_dev *d = ctx;
  return flash_model_read(d->model, addr, buf, len);
}

static enum flash_result dev_sync(void *ctx)
{
  struct flash_model_dev *d = ctx;
  return d->sync != NULL ? d->sync(d->sync_ctx) : FLASH_OK;
}

static const struct flash_dev_ops flash_model_dev_ops = {
  .erase_sector = dev_erase_sector,
  .program = dev_program,
  .read = dev_read,
  .sync = dev_sync,
};

const struct flash_dev *flash_model_dev_init(struct flash_model_dev *d, struct flash_model *m,
                                             enum flash_result (*sync)(void *ctx),
                                             void *sync_ctx)
{
  d->model = m;
  d->sync = sync;
  d->sync_ctx = sync_ctx;
  d->dev.ops = &flash_model_dev_ops;
  d->dev.ctx = d;
  return &d->dev;
}
