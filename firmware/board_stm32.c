/* The STM324xG-EVAL as the bootloader's board (see board_stm32.h). */
#include "board_stm32.h"

#include "board_opts.h"
#include "clock.h"
#include "eth_stm32.h"
#include "gpio.h"
#include "iap_opts.h"
#include "log.h"
#include "log_uart.h"
#include "lwip/netif.h"
#include "netif/ethernet.h"
#include "regs.h"
#include "rng.h"

void board_key_init(void)
{
  RCC_AHB1ENR |= RCC_AHB1_GPIOG;
  (void)RCC_AHB1ENR;
  gpio_input_pullup('G', 15);
  /* The pull-up needs a moment to charge the pin before the first read. */
  clock_delay_us(10);
}

static bool key_pressed(void *ctx)
{
  (void)ctx;
  if (BOARD_KEY_FORCE >= 0)
    return BOARD_KEY_FORCE == 1;
  return !(GPIO_IDR('G') & (1u << 15));
}

static void system_reset(void *ctx)
{
  (void)ctx;
  log_uart_flush();
  __asm volatile ("dsb" ::: "memory");
  SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & SCB_AIRCR_PRIGROUP_Msk)
              | SCB_AIRCR_SYSRESETREQ;
  __asm volatile ("dsb" ::: "memory");
  for (;;)
    ;
}

/* Every peripheral the bootloader may have used, through its RCC reset bit: the application
 * finds them as after a reset. Then their clocks off, to the reset values of the enable
 * registers (CCM RAM's clock is on at reset). */
static void reset_peripherals(void)
{
  RCC_AHB1RSTR = RCC_AHB1_GPIO_ALL | RCC_AHB1RSTR_ETHMACRST;
  RCC_AHB2RSTR = RCC_AHB2_RNG;
  RCC_APB1RSTR = RCC_APB1_USART3;
  RCC_APB2RSTR = RCC_APB2_SYSCFG;
  RCC_AHB1RSTR = 0;
  RCC_AHB2RSTR = 0;
  RCC_APB1RSTR = 0;
  RCC_APB2RSTR = 0;
  RCC_AHB1ENR = RCC_AHB1ENR_CCMDATARAMEN;
  RCC_AHB2ENR = 0;
  RCC_APB1ENR = 0;
  RCC_APB2ENR = 0;
}

static void jump(void *ctx, uint32_t msp, uint32_t pc)
{
  (void)ctx;
  log_uart_flush();

  /* Nothing may interrupt from here: no exception of ours can run once VTOR moves. */
  __asm volatile ("cpsid i" ::: "memory");
  clock_deinit();                             /* SysTick off, HSI, PLL/HSE off, ACR reset */
  SCB_ICSR = SCB_ICSR_PENDSTCLR | SCB_ICSR_PENDSVCLR;
  for (unsigned i = 0; i < NVIC_REGS; i++) {
    NVIC_ICER(i) = 0xFFFFFFFFu;
    NVIC_ICPR(i) = 0xFFFFFFFFu;
  }
  reset_peripherals();

  /* The application's vector table, its stack, its reset handler; interrupts enabled again
   * (PRIMASK = 0, as after a reset) since nothing is enabled or pending any more. */
  SCB_VTOR = USER_FLASH_FIRST_PAGE_ADDRESS;
  __asm volatile (
    "dsb\n\t"
    "isb\n\t"
    "msr msp, %0\n\t"
    "cpsie i\n\t"
    "bx %1\n\t"
    : : "r"(msp), "r"(pc) : "memory");
  __builtin_unreachable();
}

/* The Ethernet port, brought up only in IAP mode: an application that is jumped to finds
 * the MAC as after a reset. */
static struct netif *netif_start(void *ctx)
{
  static struct netif eth;
  (void)ctx;
  if (!netif_add(&eth, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, eth_stm32_netif_init,
                 ethernet_input))
    return NULL;  /* eth_stm32_netif_init logged which jumper to check */
  return &eth;
}

static bool random_bytes(void *ctx, void *buf, size_t len)
{
  (void)ctx;
  return rng_read_bytes(buf, len);
}

static const struct board_ops stm32_board_ops = {
  .key_pressed = key_pressed,
  .jump = jump,
  .system_reset = system_reset,
  .netif_start = netif_start,
  .random = random_bytes,
};

const struct board board_stm32 = { &stm32_board_ops, NULL };
