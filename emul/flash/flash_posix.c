/* The flash seam (src/flash.h) for the emulated board, over an attached flash model. */
#include "flash_posix.h"

#include <stddef.h>

#include "flash.h"

static struct flash_model *model;
static enum flash_result (*sync_fn)(void *ctx);
static void *sync_ctx;
static const struct flash_posix_route *route;

void flash_posix_attach(struct flash_model *m, enum flash_result (*sync)(void *ctx),
                        void *ctx)
{
  model = m;
  sync_fn = sync;
  sync_ctx = ctx;
}

void flash_posix_set_route(const struct flash_posix_route *r)
{
  route = r;
}

enum flash_result flash_erase_sector(unsigned sector)
{
  if (route != NULL)
    return route->erase_sector(sector);
  if (model == NULL)
    return FLASH_ERR_RANGE;
  return flash_model_erase_sector(model, sector);
}

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

enum flash_result flash_program(uint32_t addr, const void *data, size_t len)
{
  if (route != NULL)
    return route->program(addr, data, len);
  if (model == NULL)
    return FLASH_ERR_RANGE;
  const uint8_t *p = data;
  while (len > 0) {
    unsigned width = access_width(addr, len);
    enum flash_result r = flash_model_program(model, addr, load_le(p, width), width);
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

enum flash_result flash_read(uint32_t addr, void *buf, size_t len)
{
  if (route != NULL)
    return route->read(addr, buf, len);
  if (model == NULL)
    return FLASH_ERR_RANGE;
  return flash_model_read(model, addr, buf, len);
}

enum flash_result flash_sync(void)
{
  return sync_fn != NULL ? sync_fn(sync_ctx) : FLASH_OK;
}
