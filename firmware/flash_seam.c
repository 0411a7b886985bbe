/* The flash seam (src/flash.h) on the chip: the STM32 driver. */
#include "flash.h"
#include "flash_stm32.h"

enum flash_result flash_erase_sector(unsigned sector)
{
  return flash_stm32_erase_sector(sector);
}

enum flash_result flash_program(uint32_t addr, const void *data, size_t len)
{
  return flash_stm32_program(addr, data, len);
}

enum flash_result flash_read(uint32_t addr, void *buf, size_t len)
{
  return flash_stm32_read(addr, buf, len);
}

/* A program operation is durable once BSY clears: nothing to sync on the chip. */
enum flash_result flash_sync(void)
{
  return FLASH_OK;
}
