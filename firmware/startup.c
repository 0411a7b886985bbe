/*
 * Reset and the vector table of the bootloader (ARMv7-M B1.5.3, RM0090 Table 61): word 0 is
 * the initial MSP, word 1 the reset handler, then the 14 system exceptions. Only SysTick is
 * used (the Ethernet is polled) and no interrupt is ever enabled in the NVIC, so the
 * STM32F407's 82 interrupt vectors are left out (328 bytes): an interrupt enabled by mistake
 * would read its vector from the code after the table and fault. A fault (every kind
 * escalates to HardFault) is logged with its address by fault.c; every other exception goes
 * to one handler that stops the CPU where a debugger can see it.
 */
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "regs.h"
#include "startup.h"

/* From the linker script (stm32f407-boot.ld). */
extern uint32_t _estack, _sbss, _ebss, _sccm, _eccm;

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
static const vector_t vector_table[16] = {
  [0] = (vector_t)(uintptr_t)&_estack,
  [1] = Reset_Handler,
  [2] = Default_Handler,              /* NMI */
  [3] = HardFault_Handler,            /* HardFault: fault.c */
  [4] = Default_Handler,              /* MemManage */
  [5] = Default_Handler,              /* BusFault */
  [6] = Default_Handler,              /* UsageFault */
  /* 7-10 reserved */
  [11] = Default_Handler,             /* SVCall */
  [12] = Default_Handler,             /* DebugMonitor */
  /* 13 reserved */
  [14] = Default_Handler,             /* PendSV */
  [15] = SysTick_Handler,
};

/* An exception the bootloader does not expect (a fault, or an interrupt enabled by mistake):
 * stop here; IPSR in a debugger says which. */
void Default_Handler(void)
{
  for (;;)
    ;
}

uint32_t stack_space_bytes(void)
{
  return (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_ebss);
}

uint32_t stack_used_bytes(void)
{
  const uint32_t *p = &_ebss;
  while (p < &_estack && *p == STACK_PAINT)
    p++;
  return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

/* The stack from the end of .bss up to a little below where this function's frame is: what
 * main and everything it calls will use. Plain stores through a volatile pointer, not a
 * memset the compiler might call with a frame of its own down there. */
static void paint_stack(void)
{
  uintptr_t sp;
  __asm volatile ("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t *p = &_ebss; (uintptr_t)p < sp - 64u; p++)
    *p = STACK_PAINT;
}

/* Entered from the stub (unpack_stub.c) once the program is unpacked into SRAM: .data is
 * already in place, as the stub wrote it. */
void Reset_Handler(void)
{
  /* Exceptions from this program's table, not the stub's. */
  SCB_VTOR = (uint32_t)(uintptr_t)vector_table;
  __asm volatile ("dsb\n\tisb" ::: "memory");
  /* .bss and lwIP's memory in CCM zeroed: the C run-time's promise. */
  memset(&_sbss, 0, (size_t)((uintptr_t)&_ebss - (uintptr_t)&_sbss));
  memset(&_sccm, 0, (size_t)((uintptr_t)&_eccm - (uintptr_t)&_sccm));
  paint_stack();
  clock_init();
  main();
  for (;;)
    ;
}
