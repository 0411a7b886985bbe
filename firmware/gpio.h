/* Pin set-up on the STM32F407 (RM0090 section 8): ports by letter ('A'..'I'), pins 0-15.
 * The port's clock must be on (RCC_AHB1ENR) before these are called. */
#ifndef IAPD_GPIO_H
#define IAPD_GPIO_H

#include "regs.h"

static inline void gpio_set_field2(volatile uint32_t *reg, unsigned pin, uint32_t value)
{
  *reg = (*reg & ~(3u << (2u * pin))) | value << (2u * pin);
}

/* Alternate function `af` (AF0-AF15, RM0090 / datasheet Table 9), push-pull, highest speed. */
static inline void gpio_alternate(char port, unsigned pin, unsigned af)
{
  volatile uint32_t *afr = &GPIO_AFR(port, pin / 8u);
  unsigned shift = 4u * (pin % 8u);
  *afr = (*afr & ~(0xFu << shift)) | (uint32_t)af << shift;
  GPIO_OTYPER(port) &= ~(1u << pin);
  gpio_set_field2(&GPIO_OSPEEDR(port), pin, GPIO_SPEED_HIGH);
  gpio_set_field2(&GPIO_MODER(port), pin, GPIO_MODE_AF);
}

static inline void gpio_input_pullup(char port, unsigned pin)
{
  gpio_set_field2(&GPIO_PUPDR(port), pin, GPIO_PULL_UP);
  gpio_set_field2(&GPIO_MODER(port), pin, GPIO_MODE_INPUT);
}

#endif
