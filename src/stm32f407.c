/* The STM32F407 flash sector map (RM0090 Table 5). */
#include "stm32f407.h"

static const uint32_t sector_size_kib[STM32_FLASH_SECTOR_COUNT] = {
  16, 16, 16, 16, 64, 128, 128, 128, 128, 128, 128, 128
};

uint32_t stm32_flash_sector_base(unsigned sector)
{
  uint32_t addr = STM32_FLASH_BASE;
  for (unsigned i = 0; i < sector && i < STM32_FLASH_SECTOR_COUNT; i++)
    addr += sector_size_kib[i] * 1024u;
  return addr;
}

uint32_t stm32_flash_sector_size(unsigned sector)
{
  return sector < STM32_FLASH_SECTOR_COUNT ? sector_size_kib[sector] * 1024u : 0;
}

int stm32_flash_sector_of(uint32_t addr)
{
  if (addr < STM32_FLASH_BASE || addr >= STM32_FLASH_END)
    return -1;
  uint32_t start = STM32_FLASH_BASE;
  for (unsigned i = 0; i < STM32_FLASH_SECTOR_COUNT; i++) {
    uint32_t size = sector_size_kib[i] * 1024u;
    if (addr < start + size)
      return (int)i;
    start += size;
  }
  return -1;
}

int stm32_flash_is_sector_start(uint32_t addr)
{
  int s = stm32_flash_sector_of(addr);
  return s >= 0 && stm32_flash_sector_base((unsigned)s) == addr;
}
