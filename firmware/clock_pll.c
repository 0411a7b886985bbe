/* The PLL and the reset clocks (see clock_pll.h). */
#include "clock_pll.h"

#include "board_opts.h"
#include "flash_regs.h"
#include "regs.h"

/* Oscillator and PLL start-up: the datasheet gives 2 ms for the HSE crystal, 100 us for
 * the PLL; a loop of this many polls (>= 4 cycles each at 16 MHz) is > 100 ms. */
#define STARTUP_POLLS 500000u

bool clock_wait(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
  for (uint32_t i = 0; i < STARTUP_POLLS; i++)
    if ((*reg & mask) == value)
      return true;
  return false;
}

bool clock_pll_start(bool hse)
{
  /* From the HSI: same 168 MHz, M=16. */
  RCC_PLLCFGR = (hse ? PLL_M | RCC_PLLCFGR_PLLSRC_HSE : HSI_HZ / 1000000u)
                | PLL_N << RCC_PLLCFGR_PLLN_Pos
                | (PLL_P / 2u - 1u) << RCC_PLLCFGR_PLLP_Pos
                | PLL_Q << RCC_PLLCFGR_PLLQ_Pos;
  /* Bus prescalers before the switch: AHB /1, APB1 /4 (42 MHz max), APB2 /2 (84 MHz max). */
  RCC_CFGR = RCC_CFGR_SW_HSI | RCC_CFGR_HPRE_DIV1 | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
  RCC_CR |= RCC_CR_PLLON;
  if (!clock_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY))
    return false;
  /* RM0090 3.4.1: raise the wait states first, and read them back, then the clock. The
   * voltage regulator is in scale 1 at reset on the STM32F407 (PWR_CR.VOS = 1). */
  REG32(FLASH_ACR) = FLASH_WAIT_STATES | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
  (void)clock_wait(&REG32(FLASH_ACR), FLASH_ACR_LATENCY_Msk, FLASH_WAIT_STATES);
  RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
  return clock_wait(&RCC_CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_PLL);
}

void clock_reset_state(void)
{
  RCC_CR |= RCC_CR_HSION;
  (void)clock_wait(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY);
  RCC_CFGR = 0;  /* SYSCLK = HSI, prescalers /1, MCO1 = HSI undivided (its reset state) */
  (void)clock_wait(&RCC_CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_HSI);
  RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP | RCC_CR_CSSON);
  (void)clock_wait(&RCC_CR, RCC_CR_PLLRDY, 0);
  RCC_PLLCFGR = RCC_PLLCFGR_RESET;
  /* 16 MHz needs no wait state; caches off and reset, as after a reset. */
  REG32(FLASH_ACR) = 0;
  REG32(FLASH_ACR) = FLASH_ACR_ICRST | FLASH_ACR_DCRST;
  REG32(FLASH_ACR) = 0;
}
