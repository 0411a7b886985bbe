/* Clocks, SysTick and sys_now() (see clock.h). */
#include "clock.h"

#include "clock_pll.h"

#include "board_opts.h"
#include "lwip/sys.h"
#include "regs.h"

static volatile uint32_t ms_ticks;
static enum clock_source source = CLOCK_HSI_ONLY;
static uint32_t sysclk_hz = HSI_HZ;

void clock_init(void)
{
  bool hse;

  /* HSE: the eval board's 25 MHz crystal. Without it, the PLL runs from the 16 MHz HSI:
   * same 168 MHz (M=16), and Ethernet still works when the PHY has its own crystal. */
  RCC_CR |= RCC_CR_HSEON;
  hse = clock_wait(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY);
  if (!hse)
    RCC_CR &= ~RCC_CR_HSEON;
  if (clock_pll_start(hse)) {
    sysclk_hz = SYSCLK_HZ;
    source = hse ? CLOCK_PLL_HSE : CLOCK_PLL_HSI;
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
  clock_reset_state();
}
