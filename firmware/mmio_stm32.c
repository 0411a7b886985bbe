/* The mmio seam (mmio.h) on the chip: volatile accesses of the width asked for. */
#include "mmio.h"

#include <string.h>

uint32_t mmio_read32(uint32_t addr)
{
  return *(volatile uint32_t *)(uintptr_t)addr;
}

void mmio_write32(uint32_t addr, uint32_t value)
{
  *(volatile uint32_t *)(uintptr_t)addr = value;
}

void mmio_write16(uint32_t addr, uint16_t value)
{
  *(volatile uint16_t *)(uintptr_t)addr = value;
}

void mmio_write8(uint32_t addr, uint8_t value)
{
  *(volatile uint8_t *)(uintptr_t)addr = value;
}

/* The flash array is normal memory for reads (RM0090 3.4); only its writes are special. */
void mmio_read_bytes(uint32_t addr, void *buf, size_t len)
{
  memcpy(buf, (const void *)(uintptr_t)addr, len);
}
