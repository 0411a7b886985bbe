/*
 * Helpers shared by the unit tests, header-only (static inline) so that each check_*.c stays
 * one translation unit: a deterministic byte generator, application images with a chosen
 * vector table, and the emulated flash (a flash model over a malloc'd 1 MiB buffer, as a
 * flash device, sectors 0-3 write protected and holding a "bootloader" pattern, as on the
 * board).
 */
#ifndef IAPD_TESTLIB_H
#define IAPD_TESTLIB_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "flash_model.h"
#include "flash_model_dev.h"
#include "stm32f407.h"

#define TL_USER_BASE     0x08010000u  /* USER_FLASH_FIRST_PAGE_ADDRESS */
#define TL_USER_END      0x08100000u
#define TL_USER_CAPACITY (TL_USER_END - TL_USER_BASE - 128u)  /* 960 KiB less the record area */
#define TL_SP            0x20020000u  /* _estack of a 128 KiB SRAM linker script */
#define TL_BOOT_SECTORS  0x0Fu        /* sectors 0-3: the bootloader, write protected */

/* Fails the test with both strings when needle is not in haystack. */
#define tl_assert_contains(haystack, needle)                                               \
  do {                                                                                     \
    const char *tl_h_ = (haystack), *tl_n_ = (needle);                                     \
    ck_assert_msg(strstr(tl_h_, tl_n_) != NULL, "\"%s\" does not contain \"%s\"", tl_h_,   \
                  tl_n_);                                                                  \
  } while (0)

/* xorshift32: the same bytes on every run, from any non-zero seed. */
static inline uint32_t tl_rand(uint32_t *state)
{
  uint32_t x = *state ? *state : 0x9E3779B9u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

static inline void tl_fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
  uint32_t s = seed;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(tl_rand(&s) >> 24);
}

/* A board whose RNG is tl_rand(), a new seed per call: session tokens differ, and each run
 * of a test draws the same ones. Key, jump, reset and netif are the tests' own business. */
static inline bool tl_board_random(void *ctx, void *buf, size_t len)
{
  static uint32_t calls;
  (void)ctx;
  tl_fill_random(buf, len, 0xB0A4Du + calls++);
  return true;
}

static const struct board_ops tl_board_ops = { .random = tl_board_random };
static const struct board tl_board = { &tl_board_ops, NULL };

static inline void tl_put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* A malloc'd image of `size` random bytes whose first two words are sp and reset (as much
 * of them as fits). The caller frees it. */
static inline uint8_t *tl_image(size_t size, uint32_t sp, uint32_t reset, uint32_t seed)
{
  uint8_t head[8];
  uint8_t *img = malloc(size ? size : 1);
  ck_assert_ptr_nonnull(img);
  tl_fill_random(img, size, seed);
  tl_put_le32(head, sp);
  tl_put_le32(head + 4, reset);
  memcpy(img, head, size < 8 ? size : 8);
  return img;
}

/* A valid image for the default user area: reset handler at offset 0x1C8, Thumb bit set. */
static inline uint8_t *tl_app(size_t size, uint32_t seed)
{
  return tl_image(size, TL_SP, TL_USER_BASE + 0x1C9u, seed);
}

struct tl_flash {
  uint8_t *mem;              /* byte i is address 0x08000000 + i */
  struct flash_model model;
  struct flash_model_dev dev_model;
  const struct flash_dev *dev;  /* what the writer and the boot decision get */
};

/* A new erased chip with the bootloader pattern in sectors 0-3, as a flash device (f->dev). */
static inline void tl_flash_open(struct tl_flash *f)
{
  f->mem = malloc(STM32_FLASH_SIZE);
  ck_assert_ptr_nonnull(f->mem);
  memset(f->mem, STM32_FLASH_ERASED_BYTE, STM32_FLASH_SIZE);
  for (uint32_t i = 0; i < stm32_flash_sector_base(4) - STM32_FLASH_BASE; i++)
    f->mem[i] = (uint8_t)(i * 31u + 7u);
  flash_model_init(&f->model, f->mem, TL_BOOT_SECTORS);
  f->dev = flash_model_dev_init(&f->dev_model, &f->model, NULL, NULL);
}

static inline void tl_flash_close(struct tl_flash *f)
{
  f->dev = NULL;
  free(f->mem);
  f->mem = NULL;
}

/* The chip's bytes at addr (absolute address). */
static inline const uint8_t *tl_flash_at(const struct tl_flash *f, uint32_t addr)
{
  return f->mem + (addr - STM32_FLASH_BASE);
}

static inline uint32_t tl_flash_le32(const struct tl_flash *f, uint32_t addr)
{
  const uint8_t *p = tl_flash_at(f, addr);
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A malloc'd copy of the whole chip; the caller frees it. */
static inline uint8_t *tl_flash_snapshot(const struct tl_flash *f)
{
  uint8_t *copy = malloc(STM32_FLASH_SIZE);
  ck_assert_ptr_nonnull(copy);
  memcpy(copy, f->mem, STM32_FLASH_SIZE);
  return copy;
}

/* True when [addr, addr + len) reads all 0xFF. */
static inline int tl_flash_is_erased(const struct tl_flash *f, uint32_t addr, uint32_t len)
{
  const uint8_t *p = tl_flash_at(f, addr);
  for (uint32_t i = 0; i < len; i++)
    if (p[i] != STM32_FLASH_ERASED_BYTE)
      return 0;
  return 1;
}

static inline unsigned tl_total_erases(const struct tl_flash *f)
{
  unsigned n = 0;
  for (unsigned s = 0; s < STM32_FLASH_SECTOR_COUNT; s++)
    n += f->model.erase_count[s];
  return n;
}

/* Runs a suite (CK_FORK and CK_VERBOSITY from the environment apply); the exit status. */
static inline int tl_run(Suite *s)
{
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
