/*
 * STM32F407 facts the IAP code depends on, named as RM0090 and the datasheet name them.
 * One place for them: the flash model, the image checks and the firmware all read these.
 */
#ifndef IAPD_STM32F407_H
#define IAPD_STM32F407_H

#include <stdint.h>

/* RM0090 3.3, Table 5: main memory block of the 1 Mbyte parts (STM32F405/407). */
#define STM32_FLASH_BASE          0x08000000u
#define STM32_FLASH_SIZE          0x00100000u  /* 1 MiB */
#define STM32_FLASH_END           (STM32_FLASH_BASE + STM32_FLASH_SIZE)
#define STM32_FLASH_SECTOR_COUNT  12u          /* 4 x 16 KiB, 1 x 64 KiB, 7 x 128 KiB */
#define STM32_FLASH_ERASED_BYTE   0xFFu

/* RM0090 2.3.1: 112 KiB SRAM1 + 16 KiB SRAM2, contiguous; 64 KiB CCM data RAM. */
#define STM32_SRAM_BASE           0x20000000u
#define STM32_SRAM_SIZE           0x00020000u
#define STM32_CCMRAM_BASE         0x10000000u
#define STM32_CCMRAM_SIZE         0x00010000u

/* Sector n's first address and size; n < STM32_FLASH_SECTOR_COUNT. */
uint32_t stm32_flash_sector_base(unsigned sector);
uint32_t stm32_flash_sector_size(unsigned sector);

/* Index of the sector holding addr, or -1 when addr is outside the main flash. */
int stm32_flash_sector_of(uint32_t addr);

/* True when addr is the first address of a sector. */
int stm32_flash_is_sector_start(uint32_t addr);

#endif
