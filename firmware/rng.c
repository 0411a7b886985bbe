/* The RNG peripheral (see rng.h). */
#include "rng.h"

#include <string.h>

#include "clock.h"
#include "regs.h"

/* A value takes 40 periods of the 48 MHz RNG clock (RM0090 24.3.1): < 1 us. Polls at 168 MHz
 * are a few cycles each; this many is far beyond a healthy generator. */
#define RNG_POLLS 10000u
#define RNG_ATTEMPTS 3u

static bool started;
static uint32_t previous;

static bool wait_value(uint32_t *out)
{
  for (uint32_t i = 0; i < RNG_POLLS; i++) {
    uint32_t sr = RNG_SR;
    if (sr & (RNG_SR_SECS | RNG_SR_CECS | RNG_SR_SEIS | RNG_SR_CEIS))
      return false;
    if (sr & RNG_SR_DRDY) {
      *out = RNG_DR;
      return true;
    }
  }
  return false;
}

/* (Re)starts the generator and takes the first value as the reference for the continuous
 * test. After a seed error RM0090 24.3.2 asks to clear SEIS and toggle RNGEN. */
static bool start(void)
{
  RCC_AHB2ENR |= RCC_AHB2_RNG;
  (void)RCC_AHB2ENR;
  RNG_CR = 0;
  RNG_SR = 0;  /* SEIS and CEIS are cleared by writing 0 */
  RNG_CR = RNG_CR_RNGEN;
  started = wait_value(&previous);
  return started;
}

bool rng_read32(uint32_t *out)
{
  for (unsigned attempt = 0; attempt < RNG_ATTEMPTS; attempt++) {
    uint32_t v;
    if (!started && !start())
      continue;
    if (wait_value(&v) && v != previous) {
      previous = v;
      *out = v;
      return true;
    }
    started = false;
  }
  return false;
}

bool rng_read_bytes(void *buf, size_t len)
{
  uint8_t *p = buf;
  while (len > 0) {
    uint32_t v;
    size_t n = len < sizeof(v) ? len : sizeof(v);
    if (!rng_read32(&v))
      return false;
    memcpy(p, &v, n);
    p += n;
    len -= n;
  }
  return true;
}
