/* The STM32F407 main flash as RM0090 section 3 describes it, over a caller's 1 MiB buffer. */
#include "flash_model.h"

#include <string.h>

void flash_model_init(struct flash_model *m, uint8_t *mem, uint32_t protected_sectors)
{
  m->mem = mem;
  m->protected_sectors = protected_sectors;
  memset(m->erase_count, 0, sizeof(m->erase_count));
  m->program_accesses = 0;
}

static bool sector_protected(const struct flash_model *m, unsigned sector)
{
  return (m->protected_sectors >> sector) & 1u;
}

/* True when [addr, addr + len) lies inside the main flash; written so that neither
 * addr - base nor addr + len can wrap. */
static bool range_in_flash(uint32_t addr, size_t len)
{
  if (addr < STM32_FLASH_BASE || addr > STM32_FLASH_END)
    return false;
  return len <= (size_t)(STM32_FLASH_END - addr);
}

enum flash_result flash_model_erase_sector(struct flash_model *m, unsigned sector)
{
  if (sector >= STM32_FLASH_SECTOR_COUNT)
    return FLASH_ERR_RANGE;
  /* RM0090 3.6.4: erasing a write-protected sector sets WRPERR and the sector keeps its
   * contents. */
  if (sector_protected(m, sector))
    return FLASH_ERR_PROTECTED;
  uint32_t offset = stm32_flash_sector_base(sector) - STM32_FLASH_BASE;
  memset(m->mem + offset, STM32_FLASH_ERASED_BYTE, stm32_flash_sector_size(sector));
  m->erase_count[sector]++;
  return FLASH_OK;
}

enum flash_result flash_model_program(struct flash_model *m, uint32_t addr, uint32_t value,
                                      unsigned width)
{
  /* RM0090 3.5.2: PSIZE selects x8, x16 or x32 parallelism; the model accepts any of the
   * three (x64 needs an external VPP, which the board does not have). */
  if (width != 1 && width != 2 && width != 4)
    return FLASH_ERR_PARALLELISM;
  /* PGAERR (RM0090 3.5.4): a half-word or word must be aligned to its own size. */
  if (addr % width != 0)
    return FLASH_ERR_ALIGN;
  if (!range_in_flash(addr, width))
    return FLASH_ERR_RANGE;
  /* Sector sizes are multiples of 4, so an aligned access never straddles two sectors;
   * a program in a write-protected sector sets WRPERR and changes nothing (RM0090 3.6.4). */
  if (sector_protected(m, (unsigned)stm32_flash_sector_of(addr)))
    return FLASH_ERR_PROTECTED;
  uint8_t *p = m->mem + (addr - STM32_FLASH_BASE);
  /* Programming can only clear bits (RM0090 3.5.4): the cell keeps old AND new. The
   * Cortex-M4 is little-endian, so the low byte of value lands at the lowest address. */
  for (unsigned i = 0; i < width; i++)
    p[i] &= (uint8_t)(value >> (8u * i));
  m->program_accesses++;
  return FLASH_OK;
}

/* How many accesses a driver makes over [addr, addr + len): the widest the alignment and the
 * bytes left allow (a byte or half-word up to a word boundary, words, then the tail). */
static uint32_t accesses_over(uint32_t addr, size_t len)
{
  uint32_t count = 0;
  while (addr % 4 != 0 && len > 0) {
    unsigned width = addr % 2 == 0 && len >= 2 ? 2 : 1;
    count++;
    addr += width;
    len -= width;
  }
  count += (uint32_t)(len / 4);
  len %= 4;
  if (len >= 2) {
    count++;
    len -= 2;
  }
  return count + (uint32_t)len;
}

enum flash_result flash_model_program_range(struct flash_model *m, uint32_t addr,
                                            const uint8_t *data, size_t len)
{
  /* The same checks as the accesses would meet, once per sector rather than once per word:
   * accesses never straddle a sector nor the end of flash (both are multiples of 4), so the
   * first access refused is the first one in a protected sector or past the end. */
  while (len > 0) {
    if (addr < STM32_FLASH_BASE || addr >= STM32_FLASH_END)
      return FLASH_ERR_RANGE;
    unsigned sector = (unsigned)stm32_flash_sector_of(addr);
    if (sector_protected(m, sector))
      return FLASH_ERR_PROTECTED;
    uint32_t left_in_sector =
      stm32_flash_sector_base(sector) + stm32_flash_sector_size(sector) - addr;
    size_t n = len < left_in_sector ? len : left_in_sector;
    uint8_t *p = m->mem + (addr - STM32_FLASH_BASE);
    /* Old AND new, what the word, half-word and byte accesses store; eight bytes at a time
     * (memcpy: neither pointer need be aligned), as a byte loop here is not vectorised. */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t cell, value;
      memcpy(&cell, p + i, 8);
      memcpy(&value, data + i, 8);
      cell &= value;
      memcpy(p + i, &cell, 8);
    }
    for (; i < n; i++)
      p[i] &= data[i];
    m->program_accesses += accesses_over(addr, n);
    addr += (uint32_t)n;
    data += n;
    len -= n;
  }
  return FLASH_OK;
}

enum flash_result flash_model_read(const struct flash_model *m, uint32_t addr, void *buf,
                                   size_t len)
{
  if (!range_in_flash(addr, len))
    return FLASH_ERR_RANGE;
  if (len > 0)
    memcpy(buf, m->mem + (addr - STM32_FLASH_BASE), len);
  return FLASH_OK;
}

bool flash_model_sector_erased(const struct flash_model *m, unsigned sector)
{
  if (sector >= STM32_FLASH_SECTOR_COUNT)
    return false;
  const uint8_t *p = m->mem + (stm32_flash_sector_base(sector) - STM32_FLASH_BASE);
  uint32_t size = stm32_flash_sector_size(sector);
  for (uint32_t i = 0; i < size; i++)
    if (p[i] != STM32_FLASH_ERASED_BYTE)
      return false;
  return true;
}
