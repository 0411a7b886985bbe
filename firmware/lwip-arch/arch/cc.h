/* lwIP architecture header for the STM32F407 firmware (arm-none-eabi-gcc, newlib-nano). */
#ifndef IAPD_FIRMWARE_ARCH_CC_H
#define IAPD_FIRMWARE_ARCH_CC_H

/* lwIP's debug output is off in lwipopts.h; nothing to print it with. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)

/* An lwIP assertion is a bug, never bad network input: it is logged and the CPU stops
 * (firmware/lwip_assert.c). The checks stay in the image but their text does not (8 KiB of
 * messages and file names): the log gives the line and the address of the failed check,
 * which `arm-none-eabi-addr2line -e fw/iapd-boot.elf ADDRESS` turns into file and line. */
void lwip_assert_failed(int line) __attribute__((noreturn));
#define LWIP_PLATFORM_ASSERT(x) lwip_assert_failed(__LINE__)

#endif
