/*
 * The application of tests/firmware/qemu_boot.sh: linked at 0x08010000 (fixtures/blink's
 * linker script), it writes one known line on USART3, the bootloader's log UART, and stops.
 * The line after the bootloader's "jump to application" proves the jump: the vector table
 * was read, the MSP and PC taken, and the application ran. It sets nothing up but USART3
 * (on the clocks of a reset, HSI 16 MHz, as the bootloader hands the chip over), so it also
 * runs under QEMU, which models no RCC.
 */
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define RCC_AHB1ENR  REG32(0x40023830u)
#define RCC_APB1ENR  REG32(0x40023840u)
#define GPIOC_MODER  REG32(0x40020800u)
#define GPIOC_AFRH   REG32(0x40020824u)
#define USART3_SR    REG32(0x40004800u)
#define USART3_DR    REG32(0x40004804u)
#define USART3_BRR   REG32(0x40004808u)
#define USART3_CR1   REG32(0x4000480Cu)

#define HSI_HZ 16000000u
#define BAUD 115200u

extern uint32_t _estack;

void Reset_Handler(void);
void Fault_Handler(void);

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
static const vector_t vectors[16] = {
  [0] = (vector_t)(uintptr_t)&_estack,
  [1] = Reset_Handler,
  [2] = Fault_Handler,
  [3] = Fault_Handler,
};

void Fault_Handler(void)
{
  for (;;)
    ;
}

/* Where it is linked (firmware.mk passes the build's user flash), for its one line. */
#if !defined HELLO_BASE
#define HELLO_BASE "0x08010000"
#endif

void Reset_Handler(void)
{
  static const char line[] = "app: hello from " HELLO_BASE "\r\n";

  RCC_AHB1ENR |= 1u << 2;    /* GPIOC */
  RCC_APB1ENR |= 1u << 18;   /* USART3 */
  (void)RCC_APB1ENR;
  GPIOC_MODER = (GPIOC_MODER & ~(3u << 20)) | 2u << 20;   /* PC10 alternate */
  GPIOC_AFRH = (GPIOC_AFRH & ~(15u << 8)) | 7u << 8;      /* AF7, USART3_TX */
  USART3_BRR = (HSI_HZ + BAUD / 2u) / BAUD;
  USART3_CR1 = (1u << 13) | (1u << 3);                    /* UE, TE */
  for (const char *p = line; *p != '\0'; p++) {
    while (!(USART3_SR & (1u << 7)))
      ;
    USART3_DR = (uint8_t)*p;
  }
  for (;;)
    ;
}
