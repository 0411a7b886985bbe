/*
 * The flash as silicon: the datasheet's timing table, number by number; the operation
 * counter; power cuts at an operation's start (clean: nothing; torn: a prefix of words, one
 * word with only some of its 1->0 bits, nothing after; an erase: a run of erased words and a
 * half-erased one), and during a stall (the operation in progress torn, the later ones
 * undone); the parallelism and access count taken from the STM32 driver's register model.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"
#include "flash_model.h"
#include "flash_model_dev.h"
#include "flash_regs_model.h"
#include "flash_silicon.h"
#include "flash_timing.h"
#include "stm32f407.h"

/* --- the timing table (DS8626, written out again by hand) -------------------------------- */

START_TEST(test_program_times)
{
  for (unsigned p = 0; p < 4; p++) {
    ck_assert_uint_eq(flash_timing_program_us(FLASH_TIMING_TYPICAL, p), 16);
    ck_assert_uint_eq(flash_timing_program_us(FLASH_TIMING_MAX, p), 100);
    ck_assert_uint_eq(flash_timing_program_us(FLASH_TIMING_NONE, p), 0);
  }
}
END_TEST

START_TEST(test_erase_times)
{
  /* [psize][16, 64, 128 KiB] typical and max, microseconds. */
  static const uint32_t typ[4][3] = {
    { 400000, 1200000, 2000000 }, { 300000, 700000, 1300000 },
    { 250000, 550000, 1000000 }, { 230000, 490000, 875000 },
  };
  static const uint32_t max[4][3] = {
    { 800000, 2400000, 4000000 }, { 600000, 1400000, 2600000 },
    { 500000, 1100000, 2000000 }, { 230000, 490000, 875000 },
  };
  static const uint32_t sizes[3] = { 16384, 65536, 131072 };
  for (unsigned p = 0; p < 4; p++) {
    for (unsigned i = 0; i < 3; i++) {
      ck_assert_uint_eq(flash_timing_erase_us(FLASH_TIMING_TYPICAL, p, sizes[i]), typ[p][i]);
      ck_assert_uint_eq(flash_timing_erase_us(FLASH_TIMING_MAX, p, sizes[i]), max[p][i]);
      ck_assert_uint_eq(flash_timing_erase_us(FLASH_TIMING_NONE, p, sizes[i]), 0);
    }
    ck_assert_uint_eq(flash_timing_erase_us(FLASH_TIMING_TYPICAL, p, 32768), 0);
  }
  static const uint32_t mass_typ[4] = { 16000000, 11000000, 8000000, 6900000 };
  static const uint32_t mass_max[4] = { 32000000, 22000000, 16000000, 6900000 };
  for (unsigned p = 0; p < 4; p++) {
    ck_assert_uint_eq(flash_timing_mass_erase_us(FLASH_TIMING_TYPICAL, p), mass_typ[p]);
    ck_assert_uint_eq(flash_timing_mass_erase_us(FLASH_TIMING_MAX, p), mass_max[p]);
  }
}
END_TEST

START_TEST(test_scale_and_names)
{
  ck_assert_uint_eq(flash_timing_scale_us(1000000, 0.01), 10000);
  ck_assert_uint_eq(flash_timing_scale_us(16, 0.5), 8);
  ck_assert_uint_eq(flash_timing_scale_us(16, 0.01), 0);   /* 0.16 us rounds to 0 */
  ck_assert_uint_eq(flash_timing_scale_us(100, 0.005), 1);  /* 0.5 rounds up */
  ck_assert_uint_eq(flash_timing_scale_us(2000000, 1000.0), 2000000000u);
  ck_assert_uint_eq(flash_timing_scale_us(550000, 1.0), 550000);
  ck_assert_str_eq(flash_timing_str(FLASH_TIMING_NONE), "none");
  ck_assert_str_eq(flash_timing_str(FLASH_TIMING_TYPICAL), "typical");
  ck_assert_str_eq(flash_timing_str(FLASH_TIMING_MAX), "max");
  ck_assert_str_eq(flash_cut_mode_str(FLASH_CUT_TORN), "torn");
  ck_assert_str_eq(flash_cut_mode_str(FLASH_CUT_CLEAN), "clean");
}
END_TEST

/* --- a board of one chip model, a fake clock ----------------------------------------------- */

static uint8_t *mem;
static struct flash_model model;
static struct flash_model_dev direct;
static struct flash_regs_model regs;
static struct flash_silicon sil;
static const struct flash_dev *dev;
static uint64_t now_us;
static bool use_regs;
static uint32_t cut_op;
static char cut_what[FLASH_SILICON_WHAT_MAX];
static unsigned ops_seen;

static uint64_t fake_now(void *ctx)
{
  (void)ctx;
  return now_us;
}

static enum flash_psize fake_psize(void *ctx)
{
  (void)ctx;
  return use_regs ? (enum flash_psize)regs.last_psize : FLASH_PSIZE_X32;
}

static void count_op(void *ctx, const struct flash_silicon_op *op)
{
  (void)ctx;
  (void)op;
  ops_seen++;
}

static void record_cut(void *ctx, uint32_t op, const char *what)
{
  (void)ctx;
  cut_op = op;
  snprintf(cut_what, sizeof(cut_what), "%s", what);
}

static void board(enum flash_timing timing, double scale, uint32_t cut_at, enum flash_cut_mode mode,
                  uint64_t seed, bool stm32)
{
  const struct flash_silicon_config cfg = { timing, scale, cut_at, mode, seed };
  const struct flash_silicon_hooks hooks = { fake_now, fake_psize, count_op, record_cut, NULL };
  const struct flash_dev *inner;

  flash_silicon_release(&sil);
  memset(mem, 0xFF, STM32_FLASH_SIZE);
  flash_model_init(&model, mem, 0x0Fu);
  use_regs = stm32;
  if (stm32) {
    memset(&regs, 0, sizeof(regs));
    regs.stuck_psize = -1;
    flash_regs_model_attach(&regs, &model);
    inner = flash_regs_model_dev(&regs, NULL, NULL);
  } else {
    inner = flash_model_dev_init(&direct, &model, NULL, NULL);
  }
  dev = flash_silicon_init(&sil, inner, &model, &cfg, &hooks);
  now_us = 1000;
  cut_op = 0;
  cut_what[0] = '\0';
  ops_seen = 0;
}

static void setup(void)
{
  mem = malloc(STM32_FLASH_SIZE);
  ck_assert_ptr_nonnull(mem);
  memset(&sil, 0, sizeof(sil));
}

static void teardown(void)
{
  flash_silicon_release(&sil);
  free(mem);
}

static uint8_t *at(uint32_t addr)
{
  return mem + (addr - STM32_FLASH_BASE);
}

static uint32_t word_at(uint32_t addr)
{
  const uint8_t *p = at(addr);
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Fills [addr, addr + len) with a pattern that has no 0xFF byte and no 0x00 byte. */
static void fill_pattern(uint32_t addr, uint32_t len, uint32_t seed)
{
  uint32_t x = seed | 1u;
  for (uint32_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    uint8_t v = (uint8_t)(x >> 16);
    at(addr)[i] = v == 0xFF ? 0x5A : v == 0 ? 0xA5 : v;
  }
}

/* --- the operation counter ----------------------------------------------------------------- */

START_TEST(test_counter)
{
  uint8_t buf[64];
  memset(buf, 0x12, sizeof(buf));
  board(FLASH_TIMING_NONE, 1.0, 0, FLASH_CUT_TORN, 0, false);
  ck_assert_uint_eq(sil.ops, 0);
  ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_OK);
  ck_assert_uint_eq(sil.ops, 1);
  ck_assert_int_eq(flash_program(dev, 0x08020000u, buf, sizeof(buf)), FLASH_OK);  /* 16 words */
  ck_assert_uint_eq(sil.ops, 2);
  ck_assert_int_eq(flash_read(dev, 0x08020000u, buf, sizeof(buf)), FLASH_OK);
  ck_assert_int_eq(flash_sync(dev), FLASH_OK);
  ck_assert_uint_eq(sil.ops, 2);  /* reads and syncs are not operations */
  ck_assert_int_eq(flash_erase_sector(dev, 1), FLASH_ERR_PROTECTED);
  ck_assert_int_eq(flash_program(dev, 0x08020001u, buf, 3), FLASH_OK);  /* byte, half-word */
  ck_assert_uint_eq(sil.ops, 4);  /* a refused operation began too; any length is one */
  ck_assert_uint_eq(ops_seen, 4);
  /* Silicon time, at typical values though the timing is none: 128 KiB erase at x32, 16
   * word accesses, a refused erase (nothing), a byte and a half-word access. */
  ck_assert_uint_eq(sil.silicon_us, 1000000 + 16 * 16 + 0 + 2 * 16);
  ck_assert(!flash_silicon_busy(&sil, now_us));
  flash_silicon_power_on(&sil);
  ck_assert_uint_eq(sil.ops, 0);
  ck_assert_uint_eq(sil.silicon_us, 0);
  ck_assert_int_eq(flash_erase_sector(dev, 6), FLASH_OK);
  ck_assert_uint_eq(sil.ops, 1);
}
END_TEST

/* --- time and the stall ---------------------------------------------------------------------- */

START_TEST(test_stall_times)
{
  uint8_t buf[512];
  memset(buf, 0, sizeof(buf));
  board(FLASH_TIMING_TYPICAL, 1.0, 0, FLASH_CUT_TORN, 0, false);
  ck_assert_int_eq(flash_erase_sector(dev, 4), FLASH_OK);
  ck_assert_uint_eq(sil.busy_until_us, 1000 + 550000);
  /* The program the same code runs next starts when the erase ends. */
  ck_assert_int_eq(flash_program(dev, 0x08010000u, buf, sizeof(buf)), FLASH_OK);
  ck_assert_uint_eq(sil.busy_until_us, 1000 + 550000 + 128 * 16);
  ck_assert(flash_silicon_busy(&sil, 1000 + 550000 + 128 * 16 - 1));
  ck_assert(!flash_silicon_busy(&sil, 1000 + 550000 + 128 * 16));
  ck_assert_uint_eq(sil.journal_len, 2);
  flash_silicon_settle(&sil, 1000 + 550000);
  ck_assert_uint_eq(sil.journal_len, 1);   /* the erase has ended: no longer tearable */

  board(FLASH_TIMING_MAX, 0.5, 0, FLASH_CUT_TORN, 0, false);
  ck_assert_int_eq(flash_erase_sector(dev, 11), FLASH_OK);
  ck_assert_uint_eq(sil.busy_until_us, 1000 + 1000000);   /* 2 s max, scaled by 0.5 */
  ck_assert_uint_eq(sil.silicon_us, 2000000);              /* silicon time is unscaled */
  now_us = 5000000;
  ck_assert_int_eq(flash_program(dev, 0x080E0000u, buf, 8), FLASH_OK);
  ck_assert_uint_eq(sil.busy_until_us, 5000000 + 100);     /* 2 x 100 us x 0.5 */

  board(FLASH_TIMING_NONE, 1.0, 0, FLASH_CUT_TORN, 0, false);
  ck_assert_int_eq(flash_erase_sector(dev, 11), FLASH_OK);
  ck_assert(!flash_silicon_busy(&sil, now_us));
  ck_assert_uint_eq(sil.journal_len, 0);
}
END_TEST

/* With the STM32 driver, the time is the register model's: PSIZE when the operation started,
 * one tprog per store the driver made. */
START_TEST(test_stm32_driver_parallelism)
{
  uint8_t buf[7] = { 1, 2, 3, 4, 5, 6, 7 };
  board(FLASH_TIMING_TYPICAL, 1.0, 0, FLASH_CUT_TORN, 0, true);
  ck_assert_int_eq(flash_erase_sector(dev, 0x5), FLASH_OK);
  ck_assert_uint_eq(regs.last_psize, FLASH_PSIZE_X32);
  ck_assert_uint_eq(sil.busy_until_us, 1000 + 1000000);
  /* 7 bytes at an odd address: byte, half-word, word: three stores, the last one... */
  ck_assert_int_eq(flash_program(dev, 0x08020001u, buf, sizeof(buf)), FLASH_OK);
  ck_assert_uint_eq(sil.busy_until_us, 1000 + 1000000 + 3 * 16);
  ck_assert_mem_eq(at(0x08020001u), buf, sizeof(buf));
  /* ...stores a word, then a half-word tail: PSIZE x16 for the last one. */
  ck_assert_int_eq(flash_program(dev, 0x08020010u, buf, 6), FLASH_OK);
  ck_assert_uint_eq(regs.last_psize, FLASH_PSIZE_X16);
  ck_assert_uint_eq(sil.silicon_us, 1000000 + 3 * 16 + 2 * 16);
}
END_TEST

/* --- power cuts at an operation's start ------------------------------------------------------ */

START_TEST(test_cut_clean_program)
{
  uint8_t buf[512];
  memset(buf, 0x00, sizeof(buf));
  board(FLASH_TIMING_NONE, 1.0, 3, FLASH_CUT_CLEAN, 0, false);
  ck_assert_int_eq(flash_erase_sector(dev, 4), FLASH_OK);
  ck_assert_int_eq(flash_program(dev, 0x08010008u, buf, sizeof(buf)), FLASH_OK);
  uint8_t *before = malloc(STM32_FLASH_SIZE);
  memcpy(before, mem, STM32_FLASH_SIZE);
  ck_assert_int_eq(flash_program(dev, 0x08010000u, buf, 8), FLASH_ERR_IO);
  ck_assert_uint_eq(cut_op, 3);
  ck_assert_str_eq(cut_what, "program of 8 bytes at 0x08010000 not done (clean cut)");
  ck_assert_mem_eq(mem, before, STM32_FLASH_SIZE);
  /* No power: nothing more happens, and it is not counted. */
  ck_assert_int_eq(flash_erase_sector(dev, 4), FLASH_ERR_IO);
  ck_assert_int_eq(flash_program(dev, 0x08010000u, buf, 8), FLASH_ERR_IO);
  ck_assert_mem_eq(mem, before, STM32_FLASH_SIZE);
  ck_assert_uint_eq(sil.ops, 3);
  free(before);
}
END_TEST

START_TEST(test_cut_clean_erase)
{
  board(FLASH_TIMING_TYPICAL, 1.0, 1, FLASH_CUT_CLEAN, 0, false);
  fill_pattern(0x08010000u, 0x10000u, 4);
  uint8_t *before = malloc(STM32_FLASH_SIZE);
  memcpy(before, mem, STM32_FLASH_SIZE);
  ck_assert_int_eq(flash_erase_sector(dev, 4), FLASH_ERR_IO);
  ck_assert_uint_eq(cut_op, 1);
  ck_assert_str_eq(cut_what, "erase of sector 4 (0x08010000, 64 KiB) not done (clean cut)");
  ck_assert_mem_eq(mem, before, STM32_FLASH_SIZE);
  ck_assert(!flash_silicon_busy(&sil, now_us));  /* a cut operation stalls nothing */
  free(before);
}
END_TEST

/* The torn program, exactly: words [0, k) as intended, word k with a proper, non-empty subset
 * of its 1->0 bits (so it holds every 0 it should and some 1s it should not), every byte after
 * it and outside the range as before; and the sentence says which. */
static unsigned check_torn_program(uint32_t addr, uint32_t len, const uint8_t *before_all,
                                   const uint8_t *want)
{
  unsigned words = len / 4, k = 0;
  while (k < words && memcmp(at(addr + 4 * k), want + 4 * k, 4) == 0)
    k++;
  ck_assert_uint_lt(k, words);
  uint32_t old = word_at(addr + 4 * k) , got = old;
  const uint8_t *b = before_all + (addr - STM32_FLASH_BASE) + 4 * k;
  old = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  uint32_t w = (uint32_t)want[4 * k] | (uint32_t)want[4 * k + 1] << 8
               | (uint32_t)want[4 * k + 2] << 16 | (uint32_t)want[4 * k + 3] << 24;
  ck_assert_uint_eq(got & ~old, 0);            /* only 1 -> 0 */
  ck_assert_uint_eq(w & ~got, 0);              /* every bit the word keeps at 0... */
  ck_assert_uint_ne(got, w);                   /* ...not all that it should clear */
  ck_assert_uint_ne(got, old);                 /* and some of them */
  uint32_t after = addr + 4 * (k + 1);
  ck_assert_mem_eq(mem + (after - STM32_FLASH_BASE), before_all + (after - STM32_FLASH_BASE),
                   STM32_FLASH_END - after);
  ck_assert_mem_eq(mem, before_all, addr - STM32_FLASH_BASE);
  char text[FLASH_SILICON_WHAT_MAX];
  snprintf(text, sizeof(text), "program of %u bytes at 0x%08x torn: %u of %u words programmed, "
           "0x%08x reads 0x%08x (0x%08x intended), nothing after", (unsigned)len,
           (unsigned)addr, k, words, (unsigned)(addr + 4 * k), (unsigned)got, (unsigned)w);
  ck_assert_str_eq(cut_what, text);
  return k;
}

START_TEST(test_cut_torn_program)
{
  uint8_t data[512];
  bool prefix_seen[128] = { false };
  for (unsigned i = 0; i < sizeof(data); i++)
    data[i] = (uint8_t)(i * 7u + 1u) == 0xFF ? 0x3C : (uint8_t)(i * 7u + 1u);
  uint8_t *before = malloc(STM32_FLASH_SIZE);
  for (uint64_t seed = 1; seed <= 400; seed++) {
    board(FLASH_TIMING_NONE, 1.0, 2, FLASH_CUT_TORN, seed, seed % 2 == 0);
    ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_OK);
    memcpy(before, mem, STM32_FLASH_SIZE);
    ck_assert_int_eq(flash_program(dev, 0x08020200u, data, sizeof(data)), FLASH_ERR_IO);
    ck_assert_uint_eq(cut_op, 2);
    prefix_seen[check_torn_program(0x08020200u, sizeof(data), before, data)] = true;
  }
  /* The prefix is random over the whole range: most lengths occur in 400 cuts. */
  unsigned seen = 0;
  for (unsigned k = 0; k < 128; k++)
    seen += prefix_seen[k];
  ck_assert_uint_ge(seen, 90);
  ck_assert(prefix_seen[0]);
  free(before);
}
END_TEST

/* The same seed tears the same operation the same way; another seed, another way. */
START_TEST(test_cut_reproducible)
{
  uint8_t head[8] = { 0x00, 0x00, 0x02, 0x20, 0xc1, 0x01, 0x01, 0x08 };
  uint8_t *first = malloc(STM32_FLASH_SIZE);
  char first_what[FLASH_SILICON_WHAT_MAX];
  board(FLASH_TIMING_NONE, 1.0, 1, FLASH_CUT_TORN, 77, false);
  flash_program(dev, 0x08010000u, head, sizeof(head));
  memcpy(first, mem, STM32_FLASH_SIZE);
  snprintf(first_what, sizeof(first_what), "%s", cut_what);
  board(FLASH_TIMING_NONE, 1.0, 1, FLASH_CUT_TORN, 77, true);
  flash_program(dev, 0x08010000u, head, sizeof(head));
  ck_assert_mem_eq(mem, first, STM32_FLASH_SIZE);
  ck_assert_str_eq(cut_what, first_what);
  unsigned differ = 0;
  for (uint64_t seed = 78; seed < 88; seed++) {
    board(FLASH_TIMING_NONE, 1.0, 1, FLASH_CUT_TORN, seed, false);
    flash_program(dev, 0x08010000u, head, sizeof(head));
    differ += memcmp(mem, first, STM32_FLASH_SIZE) != 0;
  }
  ck_assert_uint_ge(differ, 8);
  free(first);
}
END_TEST

/* A torn erase: one run of erased words, the word after it half erased (bits of the old word
 * and some more ones, not all), every other word as it was. */
START_TEST(test_cut_torn_erase)
{
  const uint32_t base = 0x08020000u, size = 0x20000u, words = size / 4;
  uint8_t *before = malloc(STM32_FLASH_SIZE);
  bool from_start = false, to_end = false;
  for (uint64_t seed = 1; seed <= 300; seed++) {
    board(FLASH_TIMING_NONE, 1.0, 1, FLASH_CUT_TORN, seed, seed % 3 == 0);
    fill_pattern(base, size, (uint32_t)seed);
    memcpy(before, mem, STM32_FLASH_SIZE);
    ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_ERR_IO);
    uint32_t first = 0;
    while (first < words && word_at(base + 4 * first) != 0xFFFFFFFFu)
      first++;
    ck_assert_uint_lt(first, words);   /* something was erased */
    uint32_t end = first;
    while (end < words && word_at(base + 4 * end) == 0xFFFFFFFFu)
      end++;
    ck_assert_mem_eq(mem, before, base + 4 * first - STM32_FLASH_BASE);
    char text[FLASH_SILICON_WHAT_MAX];
    if (end < words) {
      uint32_t old = (uint32_t)before[base - STM32_FLASH_BASE + 4 * end]
                     | (uint32_t)before[base - STM32_FLASH_BASE + 4 * end + 1] << 8
                     | (uint32_t)before[base - STM32_FLASH_BASE + 4 * end + 2] << 16
                     | (uint32_t)before[base - STM32_FLASH_BASE + 4 * end + 3] << 24;
      uint32_t half = word_at(base + 4 * end);
      ck_assert_uint_eq(old & ~half, 0);       /* erasing only sets bits */
      ck_assert_uint_ne(half, old);            /* some 0 bits are back to 1 (the pattern's */
      ck_assert_uint_ne(half, 0xFFFFFFFFu);    /* words have many), some are still 0 */
      uint32_t rest = base + 4 * (end + 1);
      ck_assert_mem_eq(at(rest), before + (rest - STM32_FLASH_BASE), STM32_FLASH_END - rest);
      snprintf(text, sizeof(text), "erase of sector 5 (0x08020000, 128 KiB) torn: "
               "0x%08x-0x%08x erased, 0x%08x half erased (0x%08x, was 0x%08x), the rest as it "
               "was", (unsigned)(base + 4 * first), (unsigned)(base + 4 * end - 1),
               (unsigned)(base + 4 * end), (unsigned)half, (unsigned)old);
    } else {
      to_end = true;
      snprintf(text, sizeof(text), "erase of sector 5 (0x08020000, 128 KiB) torn: "
               "0x%08x-0x%08x erased, the rest as it was", (unsigned)(base + 4 * first),
               (unsigned)(base + size - 1));
    }
    from_start = from_start || first == 0;
    ck_assert_str_eq(cut_what, text);
  }
  (void)from_start;
  (void)to_end;
  free(before);
}
END_TEST

/* --- a power cut during a stall (POST /api/power-cut) ---------------------------------------- */

/* An erase over words already erased: no half-erased word to show. */
START_TEST(test_cut_torn_erase_of_erased)
{
  board(FLASH_TIMING_NONE, 1.0, 1, FLASH_CUT_TORN, 3, false);
  ck_assert_int_eq(flash_erase_sector(dev, 6), FLASH_ERR_IO);
  for (uint32_t a = 0x08040000u; a < 0x08060000u; a += 4)
    ck_assert_uint_eq(word_at(a), 0xFFFFFFFFu);
  ck_assert_ptr_null(strstr(cut_what, "half erased"));
  ck_assert_ptr_nonnull(strstr(cut_what, ", the rest as it was"));
}
END_TEST

START_TEST(test_cut_now_in_stall)
{
  uint8_t buf[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
  const uint32_t base = 0x08020000u, size = 0x20000u;
  uint8_t *before = malloc(STM32_FLASH_SIZE);
  char what[FLASH_SILICON_WHAT_MAX];

  /* Halfway through the erase: the erase is torn, the program after it never happened. */
  board(FLASH_TIMING_TYPICAL, 1.0, 0, FLASH_CUT_CLEAN, 5, false);
  fill_pattern(base, size, 9);
  memcpy(before, mem, STM32_FLASH_SIZE);
  ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_OK);
  ck_assert_int_eq(flash_program(dev, base, buf, sizeof(buf)), FLASH_OK);
  ck_assert_uint_eq(word_at(base), 0);
  ck_assert_uint_eq(sil.ops, 2);
  ck_assert_uint_eq(flash_silicon_cut_now(&sil, 1000 + 500000, FLASH_CUT_CLEAN, what,
                                          sizeof(what)), 1);
  ck_assert_str_eq(what, "erase of sector 5 (0x08020000, 128 KiB) not done (clean cut)");
  ck_assert_uint_eq(sil.ops, 1);  /* the program had not begun */
  ck_assert_mem_eq(mem, before, STM32_FLASH_SIZE);
  ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_ERR_IO);  /* no power */
  flash_silicon_power_on(&sil);
  ck_assert_uint_eq(sil.ops, 0);
  ck_assert_uint_eq(sil.journal_len, 0);

  /* In the program (the erase done): the program torn over the erased sector. */
  board(FLASH_TIMING_TYPICAL, 1.0, 0, FLASH_CUT_TORN, 5, false);
  fill_pattern(base, size, 9);
  ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_OK);
  ck_assert_int_eq(flash_program(dev, base, buf, sizeof(buf)), FLASH_OK);
  memset(before, 0xFF, STM32_FLASH_SIZE);  /* what the program found: an erased sector */
  memcpy(before, mem, base - STM32_FLASH_BASE);
  memcpy(before + (base + size - STM32_FLASH_BASE), mem + (base + size - STM32_FLASH_BASE),
         STM32_FLASH_END - base - size);
  ck_assert_uint_eq(flash_silicon_cut_now(&sil, 1000 + 1000000 + 10, FLASH_CUT_TORN, what,
                                          sizeof(what)), 2);
  snprintf(cut_what, sizeof(cut_what), "%s", what);
  check_torn_program(base, sizeof(buf), before, buf);

  /* After the stall: nothing in progress, nothing changes. */
  board(FLASH_TIMING_TYPICAL, 1.0, 0, FLASH_CUT_TORN, 5, false);
  ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_OK);
  ck_assert_int_eq(flash_program(dev, base, buf, sizeof(buf)), FLASH_OK);
  memcpy(before, mem, STM32_FLASH_SIZE);
  ck_assert_uint_eq(flash_silicon_cut_now(&sil, 1000 + 1000000 + 32, FLASH_CUT_TORN, what,
                                          sizeof(what)), 0);
  ck_assert_str_eq(what, "no flash operation in progress");
  ck_assert_mem_eq(mem, before, STM32_FLASH_SIZE);
  free(before);
}
END_TEST

static Suite *silicon_suite(void)
{
  Suite *s = suite_create("silicon");
  TCase *tc = tcase_create("timing table");
  tcase_add_test(tc, test_program_times);
  tcase_add_test(tc, test_erase_times);
  tcase_add_test(tc, test_scale_and_names);
  suite_add_tcase(s, tc);
  tc = tcase_create("device");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_counter);
  tcase_add_test(tc, test_stall_times);
  tcase_add_test(tc, test_stm32_driver_parallelism);
  tcase_add_test(tc, test_cut_clean_program);
  tcase_add_test(tc, test_cut_clean_erase);
  tcase_add_test(tc, test_cut_torn_program);
  tcase_add_test(tc, test_cut_reproducible);
  tcase_add_test(tc, test_cut_torn_erase);
  tcase_add_test(tc, test_cut_torn_erase_of_erased);
  tcase_add_test(tc, test_cut_now_in_stall);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(silicon_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
