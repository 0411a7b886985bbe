/* The STM32F405/407 flash driver over the FLASH registers (see flash_stm32.h). */
#include "flash_stm32.h"

#include "flash_regs.h"
#include "mmio.h"
#include "stm32f407.h"

/* An operation ends by itself: an erase of a 128 KiB sector at x32 takes 1 to 2 s (datasheet,
 * flash characteristics), a word program 16 us. Reads of the flash stall while BSY is set, so
 * there is nothing better to do than to wait. */
static void wait_idle(void)
{
  while (mmio_read32(FLASH_SR) & FLASH_SR_BSY)
    ;
}

static enum flash_result unlock(void)
{
  if (!(mmio_read32(FLASH_CR) & FLASH_CR_LOCK))
    return FLASH_OK;
  mmio_write32(FLASH_KEYR, FLASH_KEY1);
  mmio_write32(FLASH_KEYR, FLASH_KEY2);
  /* After a wrong sequence (a stray KEYR write earlier) the chip keeps LOCK set until reset. */
  return (mmio_read32(FLASH_CR) & FLASH_CR_LOCK) ? FLASH_ERR_LOCKED : FLASH_OK;
}

/* Clears PG, SER and SNB and sets LOCK in one write. */
static void lock(void)
{
  mmio_write32(FLASH_CR, FLASH_CR_LOCK);
}

static void clear_flags(void)
{
  mmio_write32(FLASH_SR, FLASH_SR_EOP | FLASH_SR_ERRORS);
}

static enum flash_result result_of(uint32_t sr)
{
  if (sr & FLASH_SR_WRPERR)
    return FLASH_ERR_PROTECTED;
  if (sr & FLASH_SR_PGAERR)
    return FLASH_ERR_ALIGN;
  if (sr & FLASH_SR_PGPERR)
    return FLASH_ERR_PARALLELISM;
  if (sr & (FLASH_SR_PGSERR | FLASH_SR_OPERR))
    return FLASH_ERR_SEQUENCE;
  return FLASH_OK;
}

/* The ART data cache may hold lines read before the change (RM0090 3.4, FLASH_ACR DCRST):
 * reset it so the read-back sees the flash. DCRST is writable only while DCEN is clear. The
 * instruction cache is left alone: it holds bootloader code, which the driver never changes. */
static void flush_data_cache(void)
{
  uint32_t acr = mmio_read32(FLASH_ACR);
  if (!(acr & FLASH_ACR_DCEN))
    return;
  mmio_write32(FLASH_ACR, acr & ~FLASH_ACR_DCEN);
  mmio_write32(FLASH_ACR, (acr & ~FLASH_ACR_DCEN) | FLASH_ACR_DCRST);
  mmio_write32(FLASH_ACR, acr & ~(FLASH_ACR_DCEN | FLASH_ACR_DCRST));
  mmio_write32(FLASH_ACR, acr);
}

/* Waits, unlocks and clears old flags: the start of every change (RM0090 3.5.3, 3.5.4). */
static enum flash_result begin(void)
{
  wait_idle();
  enum flash_result r = unlock();
  if (r == FLASH_OK)
    clear_flags();
  return r;
}

/* Reads the outcome, locks, flushes. */
static enum flash_result end(enum flash_result r)
{
  uint32_t sr = mmio_read32(FLASH_SR);
  lock();
  flush_data_cache();
  if (r == FLASH_OK)
    r = result_of(sr);
  clear_flags();
  return r;
}

static int range_ok(uint32_t addr, size_t len)
{
  return addr >= STM32_FLASH_BASE && addr <= STM32_FLASH_END
         && len <= (size_t)(STM32_FLASH_END - addr);
}

enum flash_result flash_stm32_erase_sector(unsigned sector)
{
  if (sector >= STM32_FLASH_SECTOR_COUNT)
    return FLASH_ERR_RANGE;
  enum flash_result r = begin();
  if (r != FLASH_OK)
    return r;
  /* RM0090 3.5.3: SER and SNB, then STRT, then wait for BSY to clear. */
  uint32_t cr = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | (sector << FLASH_CR_SNB_Pos);
  mmio_write32(FLASH_CR, cr);
  mmio_write32(FLASH_CR, cr | FLASH_CR_STRT);
  wait_idle();
  return end(FLASH_OK);
}

/* The little-endian value of `width` bytes at p (p need not be aligned). */
static uint32_t load_le(const uint8_t *p, unsigned width)
{
  uint32_t v = 0;
  for (unsigned i = 0; i < width; i++)
    v |= (uint32_t)p[i] << (8u * i);
  return v;
}

enum flash_result flash_stm32_program(uint32_t addr, const void *data, size_t len)
{
  const uint8_t *p = data;
  uint32_t cr = 0;

  if (!range_ok(addr, len))
    return FLASH_ERR_RANGE;
  if (len == 0)
    return FLASH_OK;
  enum flash_result r = begin();
  if (r != FLASH_OK)
    return r;
  while (len > 0) {
    /* The widest store the alignment allows; PSIZE must equal its size (RM0090 3.5.4,
     * PGPERR), and a half-word or word must be aligned to it. */
    unsigned width = (addr % 4 == 0 && len >= 4) ? 4 : (addr % 2 == 0 && len >= 2) ? 2 : 1;
    uint32_t want = FLASH_CR_PG
                    | (width == 4 ? FLASH_CR_PSIZE_X32
                       : width == 2 ? FLASH_CR_PSIZE_X16 : FLASH_CR_PSIZE_X8);
    if (cr != want) {
      mmio_write32(FLASH_CR, want);
      cr = want;
    }
    uint32_t v = load_le(p, width);
    if (width == 4)
      mmio_write32(addr, v);
    else if (width == 2)
      mmio_write16(addr, (uint16_t)v);
    else
      mmio_write8(addr, (uint8_t)v);
    wait_idle();
    if (mmio_read32(FLASH_SR) & FLASH_SR_ERRORS)
      break;  /* end() maps the flag */
    addr += width;
    p += width;
    len -= width;
  }
  return end(FLASH_OK);
}

enum flash_result flash_stm32_read(uint32_t addr, void *buf, size_t len)
{
  if (!range_ok(addr, len))
    return FLASH_ERR_RANGE;
  wait_idle();
  mmio_read_bytes(addr, buf, len);
  return FLASH_OK;
}

/* The driver as the bootloader's flash device (src/flash.h). */
static enum flash_result dev_erase_sector(void *ctx, unsigned sector)
{
  (void)ctx;
  return flash_stm32_erase_sector(sector);
}

static enum flash_result dev_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  (void)ctx;
  return flash_stm32_program(addr, data, len);
}

static enum flash_result dev_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
  (void)ctx;
  return flash_stm32_read(addr, buf, len);
}

/* A program operation is durable once BSY clears: nothing to do on the chip. A host that keeps
 * the chip's flash in a file passes its sync as the context. */
static enum flash_result dev_sync(void *ctx)
{
  const struct flash_stm32_backing *backing = ctx;
  return backing != NULL ? backing->sync(backing->ctx) : FLASH_OK;
}

const struct flash_dev_ops flash_stm32_ops = {
  .erase_sector = dev_erase_sector,
  .program = dev_program,
  .read = dev_read,
  .sync = dev_sync,
};

const struct flash_dev flash_stm32_dev = { &flash_stm32_ops, NULL };
