/* lwIP architecture header for the STM32F407 firmware (arm-none-eabi-gcc, newlib-nano). */
#ifndef IAPD_FIRMWARE_ARCH_CC_H
#define IAPD_FIRMWARE_ARCH_CC_H

/* lwIP's debug output is off in lwipopts.h; nothing to print it with. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)

/* An lwIP assertion is a bug, never bad network input: it faults, is logged and the CPU
 * stops (firmware/fault.c). The checks stay in the image but their text does not (8 KiB of
 * messages and file names), and each is a 2-byte UDF instruction, not a call: the log gives
 * the address of the failed check, which `arm-none-eabi-addr2line -e
 * fw/iapd-boot-sram.elf ADDRESS` turns into file and line. */
#define LWIP_PLATFORM_ASSERT(x) __builtin_trap()

/* lwIP's heap and pools (some 43 KiB) in the CCM RAM (firmware/stm32f407-boot.ld): the
 * bootloader's code runs from SRAM and leaves too little of it. Only the CPU touches them;
 * the Ethernet DMA has its own buffers in SRAM (eth_stm32.c). */
#define LWIP_DECLARE_MEMORY_ALIGNED(variable_name, size) \
  u8_t variable_name[LWIP_MEM_ALIGN_BUFFER(size)] __attribute__((section(".bss.ccm")))

#endif
