/* Vector table checks for application images (see image.h). */
#include "image.h"

#include "iap_format.h"
#include "stm32f407.h"

uint32_t image_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void image_put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/*
 * ST's examples test ((sp & 0x2FFE0000) == 0x20000000). That mask rejects the most common
 * linker-script value, _estack = 0x20020000 (the top of the 128 KiB SRAM, one past its last
 * byte), and CCM stacks, while it accepts unaligned values and addresses such as 0x30000000
 * or 0xF0000000 that are not RAM at all, because bit 28 and bits 31:30 are not in the mask.
 * We test the real ranges instead, top included.
 */
bool image_sp_valid(uint32_t sp)
{
  if (sp & 3u)
    return false;
  if (sp > STM32_SRAM_BASE && sp <= STM32_SRAM_BASE + STM32_SRAM_SIZE)
    return true;
  if (sp > STM32_CCMRAM_BASE && sp <= STM32_CCMRAM_BASE + STM32_CCMRAM_SIZE)
    return true;
  return false;
}

/* The address an image was most likely linked for, given a reset vector that lies in flash:
 * vector tables sit at the start of a sector, and reset handlers close behind them. */
static uint32_t guess_link_address(uint32_t reset)
{
  int sector = stm32_flash_sector_of(reset & ~1u);
  return sector < 0 ? reset & ~1u : stm32_flash_sector_base((unsigned)sector);
}

bool image_check_vectors(const struct image_area *area, uint32_t sp, uint32_t reset,
                         char *msg, size_t msg_size)
{
  uint32_t target = reset & ~1u;

  if (sp == 0xFFFFFFFFu && reset == 0xFFFFFFFFu) {
    iap_snprintf(msg, msg_size,
             "not an application image: it starts with an erased (all 0xFF) vector table");
    return false;
  }
  if (target >= STM32_FLASH_BASE && target < STM32_FLASH_END
      && (target < area->base || target >= area->end)) {
    iap_snprintf(msg, msg_size,
             "image linked for 0x%08x, expected 0x%08x (reset vector 0x%08x is outside the "
             "user flash 0x%08x-0x%08x)", (unsigned)guess_link_address(reset),
             (unsigned)area->base, (unsigned)reset, (unsigned)area->base,
             (unsigned)(area->end - 1));
    return false;
  }
  if (!image_sp_valid(sp)) {
    iap_snprintf(msg, msg_size,
             "not an application image: initial stack pointer 0x%08x is not a word-aligned "
             "address in SRAM (0x%08x-0x%08x) or CCM RAM (0x%08x-0x%08x)", (unsigned)sp,
             STM32_SRAM_BASE, STM32_SRAM_BASE + STM32_SRAM_SIZE,
             STM32_CCMRAM_BASE, STM32_CCMRAM_BASE + STM32_CCMRAM_SIZE);
    return false;
  }
  if (target < area->base || target >= area->end) {
    iap_snprintf(msg, msg_size,
             "not an application image: reset vector 0x%08x does not point into the user "
             "flash 0x%08x-0x%08x", (unsigned)reset, (unsigned)area->base,
             (unsigned)(area->end - 1));
    return false;
  }
  if (!(reset & 1u)) {
    iap_snprintf(msg, msg_size,
             "not an application image: reset vector 0x%08x lacks the Thumb bit (bit 0), "
             "a Cortex-M4 faults on it", (unsigned)reset);
    return false;
  }
  return true;
}

bool image_check_extent(const struct image_area *area, uint32_t reset, uint32_t image_size,
                        char *msg, size_t msg_size)
{
  uint32_t target = reset & ~1u;

  if (target >= area->base + image_size) {
    uint32_t linked = guess_link_address(reset);
    if (linked == area->base)
      iap_snprintf(msg, msg_size,
               "image truncated: its reset vector 0x%08x points past the end of the %u-byte "
               "image", (unsigned)reset, (unsigned)image_size);
    else
      iap_snprintf(msg, msg_size,
               "image linked for 0x%08x, expected 0x%08x (reset vector 0x%08x points past the "
               "end of the %u-byte image)", (unsigned)linked, (unsigned)area->base,
               (unsigned)reset, (unsigned)image_size);
    return false;
  }
  return true;
}
