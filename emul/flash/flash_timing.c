/* The STM32F407's flash operation times (see flash_timing.h). */
#include "flash_timing.h"

#include <string.h>

/* DS8626 (STM32F405xx/407xx datasheet), "Flash memory programming", TA -40 to 105 degC:
 *   tprog        word programming, PSIZE x8/x16/x32       16 us typ   100 us max
 *   tERASE16KB   sector (16 KB) erase   x8 / x16 / x32    400 / 300 / 250 ms typ,
 *                                                         800 / 600 / 500 ms max
 *   tERASE64KB   sector (64 KB) erase                     1200 / 700 / 550 ms typ,
 *                                                         2400 / 1400 / 1100 ms max
 *   tERASE128KB  sector (128 KB) erase                    2 / 1.3 / 1 s typ, 4 / 2.6 / 2 s max
 *   tME          mass erase                               16 / 11 / 8 s typ, 32 / 22 / 16 s max
 * and "Flash memory programming with VPP" (x64, VPP = 8.5 V): double word programming
 * 16 us typ, 100 us max; tERASE16KB 230 ms, tERASE64KB 490 ms, tERASE128KB 875 ms and tME
 * 6.9 s, typical only: the datasheet gives no maximum there, so the maximum is the typical.
 * Index: [psize][0 typical, 1 maximum]. */
static const uint32_t program_us[4][2] = {
  { 16, 100 }, { 16, 100 }, { 16, 100 }, { 16, 100 },
};
static const uint32_t erase16_us[4][2] = {
  { 400000, 800000 }, { 300000, 600000 }, { 250000, 500000 }, { 230000, 230000 },
};
static const uint32_t erase64_us[4][2] = {
  { 1200000, 2400000 }, { 700000, 1400000 }, { 550000, 1100000 }, { 490000, 490000 },
};
static const uint32_t erase128_us[4][2] = {
  { 2000000, 4000000 }, { 1300000, 2600000 }, { 1000000, 2000000 }, { 875000, 875000 },
};
static const uint32_t mass_erase_us[4][2] = {
  { 16000000, 32000000 }, { 11000000, 22000000 }, { 8000000, 16000000 },
  { 6900000, 6900000 },
};

const char *flash_timing_str(enum flash_timing t)
{
  switch (t) {
  case FLASH_TIMING_NONE:    return "none";
  case FLASH_TIMING_TYPICAL: return "typical";
  case FLASH_TIMING_MAX:     return "max";
  }
  return "none";
}

static uint32_t pick(const uint32_t table[4][2], enum flash_timing t, enum flash_psize psize)
{
  if (t == FLASH_TIMING_NONE)
    return 0;
  return table[(unsigned)psize & 3u][t == FLASH_TIMING_MAX ? 1 : 0];
}

uint32_t flash_timing_program_us(enum flash_timing t, enum flash_psize psize)
{
  return pick(program_us, t, psize);
}

uint32_t flash_timing_erase_us(enum flash_timing t, enum flash_psize psize,
                               uint32_t sector_bytes)
{
  switch (sector_bytes) {
  case 16u * 1024u:  return pick(erase16_us, t, psize);
  case 64u * 1024u:  return pick(erase64_us, t, psize);
  case 128u * 1024u: return pick(erase128_us, t, psize);
  default:           return 0;
  }
}

uint32_t flash_timing_mass_erase_us(enum flash_timing t, enum flash_psize psize)
{
  return pick(mass_erase_us, t, psize);
}

uint64_t flash_timing_scale_us(uint64_t us, double scale)
{
  return (uint64_t)((double)us * scale + 0.5);
}
