/*
 * Faults on the board: the log says where, then the CPU stops. Every fault the bootloader
 * does not enable on its own (MemManage, BusFault, UsageFault) escalates to HardFault
 * (ARMv7-M B1.5.4), and an lwIP assertion is one of them: LWIP_PLATFORM_ASSERT is
 * __builtin_trap() (lwip-arch/arch/cc.h), a 2-byte UDF in place of a call with the line
 * number: 168 to 836 bytes less per build. The PC the exception pushed is the UDF's own
 * address in SRAM, where the program runs: `arm-none-eabi-addr2line -e
 * fw/iapd-boot-sram.elf ADDRESS` gives the file and line of the assertion.
 */
#include <stdint.h>

#include "log.h"
#include "log_uart.h"
#include "regs.h"

#define UDF_TRAP 0xDEFFu   /* udf #255: what GCC emits for __builtin_trap() in Thumb */

/* The program's code in SRAM, from the linker script (stm32f407-boot.ld). */
extern const uint8_t _program_start[], _program_code_end[];

void fault_report(const uint32_t *frame) __attribute__((used, noreturn));
void HardFault_Handler(void) __attribute__((naked, noreturn));

/* frame: what the exception pushed on the main stack (r0-r3, r12, lr, pc, xPSR; the
 * bootloader never runs on the process stack). */
void fault_report(const uint32_t *frame)
{
  uint32_t pc = frame[6];
  /* The PC is read as an instruction only where the code is: a jump into nowhere would
   * fault again, and a fault in this handler locks the core up without a word. */
  if (pc >= (uintptr_t)_program_start && pc < (uintptr_t)_program_code_end && !(pc & 1u)
      && *(const volatile uint16_t *)pc == UDF_TRAP)
    log_err("lwip", "assertion failed at address 0x%08x", (unsigned)pc);
  else
    log_err("board", "fault at address 0x%08x (CFSR 0x%08x, HFSR 0x%08x)", (unsigned)pc,
            (unsigned)SCB_CFSR, (unsigned)SCB_HFSR);
  log_uart_flush();
  __asm volatile ("cpsid i" ::: "memory");
  for (;;)
    ;
}

void HardFault_Handler(void)
{
  __asm volatile ("mov r0, sp\n\tb fault_report");
}
