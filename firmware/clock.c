/* Clocks, SysTick and sys_now() (see clock.h). */
#include "clock.h"

#include "board_opts.h"
#include "flash_regs.h"
#include "lwip/sys.h"
#include "regs.h"

/* Oscillator and PLL start-up: the datasheet gives 2 ms for the HSE crystal, 100 us for
 * the PLL; a loop of this many SysTick-less polls (>= 4 cycles each at 16 MHz) is > 100 ms. */
#define STARTUP_POLLS 500000u

static volatile uint32_t ms_ticks;
static enum clock_source source = CLOCK_HSI_ONLY;
static uint32_t sysclk_hz = HSI_HZ;

static bool wait_set(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
  for (uint32_t i = 0; i < STARTUP_POLLS; i++)
    if ((*reg & mask) == value)
      return true;
  return false;
}

void clock_init(void)
{
  bool hse;

  /* HSE: the eval board's 25 MHz crystal. Without it, the PLL runs from the 16 MHz HSI:
   * same 168 MHz (M=16), and Ethernet still works when the PHY has its own crystal. */
  RCC_CR |= RCC_CR_HSEON;
  hse = wait_set(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY);
  if (!hse)
    RCC_CR &= ~RCC_CR_HSEON;
  RCC_PLLCFGR = (hse ? PLL_M | RCC_PLLCFGR_PLLSRC_HSE : HSI_HZ / 1000000u)
                | PLL_N << RCC_PLLCFGR_PLLN_Pos
                | (PLL_P / 2u - 1u) << RCC_PLLCFGR_PLLP_Pos
                | PLL_Q << RCC_PLLCFGR_PLLQ_Pos;
  /* Bus prescalers before the switch: AHB /1, APB1 /4 (42 MHz max), APB2 /2 (84 MHz max). */
  RCC_CFGR = RCC_CFGR_SW_HSI | RCC_CFGR_HPRE_DIV1 | RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2;
  RCC_CR |= RCC_CR_PLLON;
  if (wait_set(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
    /* RM0090 3.4.1: raise the wait states first, and read them back, then the clock. The
     * voltage regulator is in scale 1 at reset on the STM32F407 (PWR_CR.VOS = 1). */
    REG32(FLASH_ACR) = FLASH_WAIT_STATES | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    (void)wait_set(&REG32(FLASH_ACR), FLASH_ACR_LATENCY_Msk, FLASH_WAIT_STATES);
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
    if (wait_set(&RCC_CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_PLL)) {
      sysclk_hz = SYSCLK_HZ;
      source = hse ? CLOCK_PLL_HSE : CLOCK_PLL_HSI;
    }
  }

  SYST_RVR = sysclk_hz / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

enum clock_source clock_source(void)
{
  return source;
}

uint32_t clock_sysclk_hz(void)
{
  return sysclk_hz;
}

uint32_t clock_apb1_hz(void)
{
  return sysclk_hz / 4u;
}

void SysTick_Handler(void)
{
  ms_ticks++;
}

u32_t sys_now(void)
{
  return ms_ticks;
}

/* Counts SysTick's down-counting current value, which wraps at the reload value. */
void clock_delay_us(uint32_t us)
{
  uint32_t reload = SYST_RVR + 1u;
  uint32_t left = us * (sysclk_hz / 1000000u);
  uint32_t last = SYST_CVR;
  while (left > 0) {
    uint32_t now = SYST_CVR;
    uint32_t elapsed = now <= last ? last - now : last + reload - now;
    left = elapsed >= left ? 0 : left - elapsed;
    last = now;
  }
}

void clock_deinit(void)
{
  SYST_CSR = 0;
  SYST_CVR = 0;
  RCC_CR |= RCC_CR_HSION;
  (void)wait_set(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY);
  RCC_CFGR = 0;  /* SYSCLK = HSI, prescalers /1, MCO1 = HSI undivided (its reset state) */
  (void)wait_set(&RCC_CFGR, RCC_CFGR_SWS_Msk, RCC_CFGR_SWS_HSI);
  RCC_CR &= ~(RCC_CR_PLLON | RCC_CR_HSEON | RCC_CR_HSEBYP | RCC_CR_CSSON);
  (void)wait_set(&RCC_CR, RCC_CR_PLLRDY, 0);
  RCC_PLLCFGR = RCC_PLLCFGR_RESET;
  /* 16 MHz needs no wait state; caches off and reset, as after a reset. */
  REG32(FLASH_ACR) = 0;
  REG32(FLASH_ACR) = FLASH_ACR_ICRST | FLASH_ACR_DCRST;
  REG32(FLASH_ACR) = 0;
}
