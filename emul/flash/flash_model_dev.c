/* A flash device over the emulated chip (see flash_model_dev.h). */
#include "flash_model_dev.h"

#include <stddef.h>

/* The little-endian value of `width` bytes at p, as the CPU would store them. */
static uint32_t load_le(const uint8_t *p, unsigned width)
{
  uint32_t value = 0;
  for (unsigned i = 0; i < width; i++)
    value |= (uint32_t)p[i] << (8u * i);
  return value;
}

/* The widest access the alignment of addr and the bytes left allow: a word needs a
 * 4-aligned address (RM0090 PGAERR), a half-word a 2-aligned one. */
static unsigned access_width(uint32_t addr, size_t left)
{
  if (addr % 4 == 0 && left >= 4)
    return 4;
  if (addr % 2 == 0 && left >= 2)
    return 2;
  return 1;
}

static enum flash_result dev_erase_sector(void *ctx, unsigned sector)
{
  struct flash_model_dev *d = ctx;
  return flash_model_erase_sector(d->model, sector);
}

static enum flash_result dev_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  struct flash_model_dev *d = ctx;
  const uint8_t *p = data;
  while (len > 0) {
    unsigned width = access_width(addr, len);
    enum flash_result r = flash_model_program(d->model, addr, load_le(p, width), width);
    if (r != FLASH_OK)
      return r;
    /* An access that ended at the top of the 32-bit space would have been refused as out of
     * range above, so addr cannot wrap here. */
    addr += width;
    p += width;
    len -= width;
  }
  return FLASH_OK;
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
