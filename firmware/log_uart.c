/* The log seam on USART3 (see log_uart.h). */
#include "log_uart.h"

#include <stdarg.h>

#include "board_opts.h"
#include "clock.h"
#include "gpio.h"
#include "iap_format.h"
#include "log.h"
#include "regs.h"

#if IAP_LOG

#define LOG_LINE_MAX 200

static void put_char(char c)
{
  while (!(USART_SR(USART3_BASE) & USART_SR_TXE))
    ;
  USART_DR(USART3_BASE) = (uint8_t)c;
}

static void put_text(const char *s)
{
  while (*s)
    put_char(*s++);
}

void log_uart_init(void)
{
  RCC_AHB1ENR |= RCC_AHB1_GPIOC;
  RCC_APB1ENR |= RCC_APB1_USART3;
  (void)RCC_APB1ENR;  /* errata: two cycles after a clock enable before the first access */
  gpio_alternate('C', 10, 7);  /* USART3_TX */
  /* 16x oversampling: BRR = f_APB1 / baud, rounded (RM0090 30.3.4). */
  USART_BRR(USART3_BASE) = (clock_apb1_hz() + LOG_BAUD / 2u) / LOG_BAUD;
  USART_CR1(USART3_BASE) = USART_CR1_UE | USART_CR1_TE;
}

void log_uart_flush(void)
{
  while (!(USART_SR(USART3_BASE) & USART_SR_TC))
    ;
}

void iap_log(enum iap_log_level level, const char *module, const char *fmt, ...)
{
  static const char *const prefix[] = { "error: ", "warning: ", "", "" };
  static char line[LOG_LINE_MAX];
  va_list ap;

  if (level == IAP_LOG_DEBUG && !LOG_DEBUG)
    return;
  va_start(ap, fmt);
  iap_vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  put_text(module);
  put_text(": ");
  put_text(prefix[level]);
  put_text(line);
  put_text("\r\n");
}

#else

void log_uart_init(void)
{
}

void log_uart_flush(void)
{
}

#endif
