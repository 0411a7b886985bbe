/*
 * The memory-mapped I/O seam of the STM32 flash driver: every access the driver makes to the
 * FLASH registers and to the flash array goes through these functions. On the chip they are
 * plain volatile accesses (mmio_stm32.c); on the host, emul/flash_regs_model.c implements
 * them over a register-level model of the flash interface, so the same driver source is
 * tested there. The choice is made by what is linked, not by #ifdef. Addresses are the
 * chip's (e.g. 0x40023C0C is FLASH_SR, 0x08010000 the start of sector 4).
 */
#ifndef IAPD_MMIO_H
#define IAPD_MMIO_H

#include <stddef.h>
#include <stdint.h>

uint32_t mmio_read32(uint32_t addr);
void mmio_write32(uint32_t addr, uint32_t value);
/* Half-word and byte stores: flash programming with PSIZE x16 and x8. */
void mmio_write16(uint32_t addr, uint16_t value);
void mmio_write8(uint32_t addr, uint8_t value);
/* Copies len bytes of memory-mapped flash from addr. */
void mmio_read_bytes(uint32_t addr, void *buf, size_t len);

#endif
