/*
 * The firmware's STM32 flash driver (firmware/flash_stm32.c), compiled for the host, against
 * the register-level model of the FLASH interface (emul/flash_regs_model.c) over the chip
 * model: unlock/lock, sector erase, word and byte programming, every error flag mapped,
 * wrong key locked until reset, PSIZE mismatch, BSY polling, the data cache flush; then the
 * flash writer streaming a whole image through the driver. The model's own rules are tested
 * with raw register accesses first, so a driver test cannot pass on a lenient model.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"
#include "flash_regs.h"
#include "flash_regs_model.h"
#include "flash_stm32.h"
#include "iap_writer.h"
#include "mmio.h"
#include "testlib.h"

static struct tl_flash fl;
static struct flash_regs_model regs;

static void setup(void)
{
  tl_flash_open(&fl);
  memset(&regs, 0, sizeof(regs));
  regs.stuck_psize = -1;
  flash_regs_model_attach(&regs, &fl.model);
}

static void teardown(void)
{
  tl_flash_close(&fl);
}

/* What every driver call must leave behind: FLASH_CR locked, no flags, nothing done behind
 * BSY's back, no bus error, no write to a locked FLASH_CR, the cache reset correctly. */
static void assert_clean(void)
{
  ck_assert_uint_eq(mmio_read32(FLASH_CR), FLASH_CR_LOCK);
  ck_assert_uint_eq(mmio_read32(FLASH_SR), 0);
  ck_assert_uint_eq(regs.stalls, 0);
  ck_assert_uint_eq(regs.bus_errors, 0);
  ck_assert_uint_eq(regs.locked_writes, 0);
  ck_assert_uint_eq(regs.cache_misuse, 0);
}

static void unlock_raw(void)
{
  mmio_write32(FLASH_KEYR, FLASH_KEY1);
  mmio_write32(FLASH_KEYR, FLASH_KEY2);
  ck_assert_uint_eq(mmio_read32(FLASH_CR) & FLASH_CR_LOCK, 0);
}

static void wait_raw(void)
{
  while (mmio_read32(FLASH_SR) & FLASH_SR_BSY)
    ;
}

/* ---- the model, by raw register accesses ------------------------------------------- */

START_TEST(model_reset_state)
{
  ck_assert_uint_eq(mmio_read32(FLASH_CR), 0x80000000u);   /* RM0090: reset value, locked */
  ck_assert_uint_eq(mmio_read32(FLASH_SR), 0);
  ck_assert_uint_eq(mmio_read32(FLASH_KEYR), 0);           /* write-only */
  /* Sectors 0-3 protected: nWRP bits 16-19 clear, 20-27 set. */
  ck_assert_uint_eq(mmio_read32(FLASH_OPTCR) & FLASH_OPTCR_nWRP_Msk, 0xFF0u << 16);
}
END_TEST

START_TEST(model_locked_cr_ignores_writes)
{
  mmio_write32(FLASH_CR, FLASH_CR_PG | FLASH_CR_PSIZE_X32);
  ck_assert_uint_eq(mmio_read32(FLASH_CR), FLASH_CR_LOCK);
  ck_assert_uint_eq(regs.locked_writes, 1);
  /* A store to the array now is a sequence error and programs nothing. */
  mmio_write32(0x08020000u, 0);
  ck_assert_uint_eq(mmio_read32(FLASH_SR), FLASH_SR_PGSERR);
  ck_assert_uint_eq(tl_flash_le32(&fl, 0x08020000u), 0xFFFFFFFFu);
  mmio_write32(FLASH_SR, FLASH_SR_PGSERR);                  /* rc_w1 */
  ck_assert_uint_eq(mmio_read32(FLASH_SR), 0);
}
END_TEST

START_TEST(model_keys_unlock_and_lock_bit_relocks)
{
  unlock_raw();
  mmio_write32(FLASH_CR, FLASH_CR_LOCK);
  ck_assert_uint_eq(mmio_read32(FLASH_CR), FLASH_CR_LOCK);
  unlock_raw();                                             /* the sequence works again */
  ck_assert_uint_eq(regs.bus_errors, 0);
}
END_TEST

START_TEST(model_wrong_key_locks_until_reset)
{
  static const uint32_t first[] = { 0x12345678u, FLASH_KEY2, FLASH_KEY1 };
  /* _i = 0: a wrong key; 1: KEY2 first; 2: KEY1 twice. */
  mmio_write32(FLASH_KEYR, first[_i]);
  if (_i == 2)
    mmio_write32(FLASH_KEYR, FLASH_KEY1);
  ck_assert_uint_eq(regs.bus_errors, 1);
  ck_assert_int_eq(regs.keyr, KEYR_LOCKED_UNTIL_RESET);
  mmio_write32(FLASH_KEYR, FLASH_KEY1);
  mmio_write32(FLASH_KEYR, FLASH_KEY2);
  ck_assert_uint_eq(mmio_read32(FLASH_CR) & FLASH_CR_LOCK, FLASH_CR_LOCK);
  flash_regs_model_reset(&regs);
  unlock_raw();
}
END_TEST

START_TEST(model_program_rules)
{
  unlock_raw();
  mmio_write32(FLASH_CR, FLASH_CR_PG | FLASH_CR_PSIZE_X32);
  mmio_write32(0x08020000u, 0x12345678u);
  ck_assert_uint_eq(mmio_read32(FLASH_SR) & FLASH_SR_BSY, FLASH_SR_BSY);
  wait_raw();
  ck_assert_uint_eq(tl_flash_le32(&fl, 0x08020000u), 0x12345678u);
  ck_assert_uint_eq(mmio_read32(FLASH_SR), 0);              /* EOP only with EOPIE */
  /* Old AND new. */
  mmio_write32(0x08020000u, 0xFF00FF0Fu);
  wait_raw();
  ck_assert_uint_eq(tl_flash_le32(&fl, 0x08020000u), 0x12005608u);
  /* A byte store with PSIZE x32: PGPERR, nothing programmed. */
  mmio_write8(0x08020004u, 0);
  ck_assert_uint_eq(mmio_read32(FLASH_SR), FLASH_SR_PGPERR);
  ck_assert_uint_eq(tl_flash_at(&fl, 0x08020004u)[0], 0xFF);
  mmio_write32(FLASH_SR, FLASH_SR_ERRORS);
  /* A misaligned word: PGAERR; with ERRIE, OPERR too. */
  mmio_write32(FLASH_CR, FLASH_CR_PG | FLASH_CR_PSIZE_X32 | FLASH_CR_ERRIE);
  mmio_write32(0x08020006u, 0);
  ck_assert_uint_eq(mmio_read32(FLASH_SR), FLASH_SR_PGAERR | FLASH_SR_OPERR);
  ck_assert_uint_eq(tl_flash_le32(&fl, 0x08020004u), 0xFFFFFFFFu);
  mmio_write32(FLASH_SR, FLASH_SR_ERRORS);
  /* Protected sector 2: WRPERR. */
  mmio_write32(0x08008000u, 0);
  ck_assert_uint_eq(mmio_read32(FLASH_SR) & FLASH_SR_WRPERR, FLASH_SR_WRPERR);
  mmio_write32(FLASH_SR, FLASH_SR_ERRORS);
  /* PG together with SER: PGSERR. */
  mmio_write32(FLASH_CR, FLASH_CR_PG | FLASH_CR_SER | FLASH_CR_PSIZE_X32);
  mmio_write32(0x08020008u, 0);
  ck_assert_uint_eq(mmio_read32(FLASH_SR), FLASH_SR_PGSERR);
  mmio_write32(FLASH_SR, FLASH_SR_ERRORS);
  /* With EOPIE, EOP at the end of an operation. */
  mmio_write32(FLASH_CR, FLASH_CR_PG | FLASH_CR_PSIZE_X16 | FLASH_CR_EOPIE);
  mmio_write16(0x0802000Au, 0xABCDu);
  wait_raw();
  ck_assert_uint_eq(mmio_read32(FLASH_SR), FLASH_SR_EOP);
  ck_assert_uint_eq(tl_flash_at(&fl, 0x0802000Au)[0], 0xCD);
  ck_assert_uint_eq(tl_flash_at(&fl, 0x0802000Au)[1], 0xAB);
  ck_assert_uint_eq(regs.stalls, 0);
}
END_TEST

START_TEST(model_erase_rules)
{
  memset(fl.mem + 0x20000, 0, 0x20000);
  unlock_raw();
  mmio_write32(FLASH_CR, FLASH_CR_SER | (5u << FLASH_CR_SNB_Pos) | FLASH_CR_PSIZE_X32);
  ck_assert_uint_eq(fl.model.erase_count[5], 0);           /* nothing without STRT */
  mmio_write32(FLASH_CR, FLASH_CR_SER | (5u << FLASH_CR_SNB_Pos) | FLASH_CR_PSIZE_X32
                         | FLASH_CR_STRT);
  ck_assert_uint_eq(mmio_read32(FLASH_CR) & FLASH_CR_STRT, 0);
  ck_assert(!tl_flash_is_erased(&fl, 0x08020000u, 0x20000));  /* still busy */
  wait_raw();
  ck_assert(tl_flash_is_erased(&fl, 0x08020000u, 0x20000));
  ck_assert_uint_eq(fl.model.erase_count[5], 1);
  /* Protected sector 0, SNB 12 (no such sector), STRT alone, mass erase with protection. */
  static const uint32_t bad[][2] = {
    { FLASH_CR_SER | (0u << FLASH_CR_SNB_Pos), FLASH_SR_WRPERR },
    { FLASH_CR_SER | (12u << FLASH_CR_SNB_Pos), FLASH_SR_PGSERR },
    { 0, FLASH_SR_PGSERR },
    { FLASH_CR_MER, FLASH_SR_WRPERR },
  };
  for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    mmio_write32(FLASH_CR, bad[i][0] | FLASH_CR_STRT);
    ck_assert_uint_eq(mmio_read32(FLASH_SR), bad[i][1]);
    mmio_write32(FLASH_SR, FLASH_SR_ERRORS);
  }
  ck_assert_uint_eq(tl_total_erases(&fl), 1);
}
END_TEST

START_TEST(model_counts_stalls_and_cache_misuse)
{
  uint8_t b[4];
  unlock_raw();
  mmio_write32(FLASH_CR, FLASH_CR_PG | FLASH_CR_PSIZE_X32);
  mmio_write32(0x08020000u, 0);
  mmio_read_bytes(0x08020000u, b, 4);      /* read while BSY: the bus stalls until done */
  ck_assert_uint_eq(regs.stalls, 1);
  ck_assert_uint_eq(b[0], 0);
  mmio_write32(FLASH_ACR, FLASH_ACR_DCEN);
  mmio_write32(FLASH_ACR, FLASH_ACR_DCEN | FLASH_ACR_DCRST);
  ck_assert_uint_eq(regs.cache_misuse, 1);
  ck_assert_uint_eq(mmio_read32(FLASH_ACR), FLASH_ACR_DCEN);
}
END_TEST

/* ---- the driver ------------------------------------------------------------------------ */

START_TEST(driver_erases_a_sector_and_locks)
{
  memset(fl.mem + 0x10000, 0x5A, 0x30000);  /* sectors 4 and 5 */
  uint8_t *before = tl_flash_snapshot(&fl);
  ck_assert_int_eq(flash_stm32_erase_sector(5), FLASH_OK);
  ck_assert(tl_flash_is_erased(&fl, 0x08020000u, 0x20000));
  ck_assert_uint_eq(fl.model.erase_count[5], 1);
  ck_assert_uint_eq(tl_total_erases(&fl), 1);
  ck_assert_mem_eq(fl.mem, before, 0x20000);                   /* sectors 0-4 untouched */
  ck_assert_mem_eq(fl.mem + 0x40000, before + 0x40000, STM32_FLASH_SIZE - 0x40000);
  assert_clean();
  free(before);
}
END_TEST

START_TEST(driver_programs_words)
{
  uint8_t data[64];
  tl_fill_random(data, sizeof(data), 7);
  ck_assert_int_eq(flash_stm32_program(0x08010000u, data, sizeof(data)), FLASH_OK);
  ck_assert_mem_eq(tl_flash_at(&fl, 0x08010000u), data, sizeof(data));
  ck_assert_uint_eq(regs.programs, sizeof(data) / 4);          /* x32 all the way */
  ck_assert(tl_flash_is_erased(&fl, 0x08010040u, 0x1000));
  assert_clean();
}
END_TEST

/* Unaligned start and end, and every length up to 11 from every offset in a word: the
 * edges go as bytes and half-words, the middle as words, each store with its own PSIZE. */
START_TEST(driver_programs_unaligned_edges)
{
  uint8_t data[16];
  unsigned off = (unsigned)_i % 4, len = (unsigned)_i / 4;
  uint32_t addr = 0x08020000u + off;
  tl_fill_random(data, sizeof(data), 1000u + (unsigned)_i);
  ck_assert_int_eq(flash_stm32_program(addr, data, len), FLASH_OK);
  ck_assert_mem_eq(tl_flash_at(&fl, addr), data, len);
  ck_assert(tl_flash_is_erased(&fl, 0x08020000u, off));
  ck_assert(tl_flash_is_erased(&fl, addr + len, 32));
  /* Stores: count them the way the chip sees them. */
  unsigned stores = 0;
  for (uint32_t a = addr, left = len; left > 0;) {
    unsigned w = (a % 4 == 0 && left >= 4) ? 4 : (a % 2 == 0 && left >= 2) ? 2 : 1;
    a += w;
    left -= w;
    stores++;
  }
  ck_assert_uint_eq(regs.programs, stores);
  assert_clean();
}
END_TEST

START_TEST(driver_program_keeps_old_and_new)
{
  static const uint8_t first[5] = { 0x0F, 0xF0, 0x33, 0xFF, 0x81 };
  static const uint8_t second[5] = { 0xF0, 0xF0, 0x0F, 0x00, 0x18 };
  ck_assert_int_eq(flash_stm32_program(0x08020001u, first, 5), FLASH_OK);
  ck_assert_int_eq(flash_stm32_program(0x08020001u, second, 5), FLASH_OK);
  const uint8_t *p = tl_flash_at(&fl, 0x08020001u);
  for (unsigned i = 0; i < 5; i++)
    ck_assert_uint_eq(p[i], first[i] & second[i]);
  assert_clean();
}
END_TEST

START_TEST(driver_reads)
{
  uint8_t buf[7];
  ck_assert_int_eq(flash_stm32_read(0x08000003u, buf, sizeof(buf)), FLASH_OK);
  ck_assert_mem_eq(buf, tl_flash_at(&fl, 0x08000003u), sizeof(buf));
  ck_assert_int_eq(flash_stm32_read(0x080FFFFCu, buf, 4), FLASH_OK);
  ck_assert_int_eq(flash_stm32_read(0x080FFFFCu, buf, 5), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_stm32_read(0x07FFFFFFu, buf, 1), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_stm32_read(0xFFFFFFFFu, buf, 2), FLASH_ERR_RANGE);
}
END_TEST

START_TEST(driver_range_checked_before_any_access)
{
  uint8_t data[8] = { 0 };
  ck_assert_int_eq(flash_stm32_erase_sector(12), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_stm32_program(0x080FFFFEu, data, 4), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_stm32_program(0x07FFFFFCu, data, 4), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_stm32_program(0xFFFFFFFCu, data, 8), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_stm32_program(0x08020000u, data, 0), FLASH_OK);
  ck_assert_uint_eq(regs.programs + regs.erases, 0);
  assert_clean();
}
END_TEST

START_TEST(driver_protected_sector_mapped)
{
  uint8_t data[8] = { 0 };
  uint8_t *before = tl_flash_snapshot(&fl);
  ck_assert_int_eq(flash_stm32_erase_sector(0), FLASH_ERR_PROTECTED);
  ck_assert_int_eq(flash_stm32_erase_sector(3), FLASH_ERR_PROTECTED);
  ck_assert_int_eq(flash_stm32_program(0x08004000u, data, sizeof(data)), FLASH_ERR_PROTECTED);
  ck_assert_int_eq(flash_stm32_program(0x0800FFFDu, data, 3), FLASH_ERR_PROTECTED);
  ck_assert_mem_eq(fl.mem, before, STM32_FLASH_SIZE);
  assert_clean();
  free(before);
}
END_TEST

/* A program that runs into a protected sector stops there: what came before is written. */
START_TEST(driver_program_stops_at_first_error)
{
  static const uint32_t protect_5 = 1u << 5;
  uint8_t data[16];
  fl.model.protected_sectors |= protect_5;
  tl_fill_random(data, sizeof(data), 3);
  ck_assert_int_eq(flash_stm32_program(0x0801FFF8u, data, sizeof(data)), FLASH_ERR_PROTECTED);
  ck_assert_mem_eq(tl_flash_at(&fl, 0x0801FFF8u), data, 8);
  ck_assert(tl_flash_is_erased(&fl, 0x08020000u, 16));
  ck_assert_uint_eq(regs.programs, 2);
  assert_clean();
}
END_TEST

START_TEST(driver_wrong_key_locked_until_reset)
{
  uint8_t data[4] = { 1, 2, 3, 4 };
  uint8_t *before = tl_flash_snapshot(&fl);
  mmio_write32(FLASH_KEYR, 0xDEADBEEFu);             /* a stray write: locked until reset */
  ck_assert_uint_eq(regs.bus_errors, 1);
  ck_assert_int_eq(flash_stm32_erase_sector(6), FLASH_ERR_LOCKED);
  ck_assert_int_eq(flash_stm32_program(0x08040000u, data, sizeof(data)), FLASH_ERR_LOCKED);
  ck_assert_mem_eq(fl.mem, before, STM32_FLASH_SIZE);
  ck_assert_uint_eq(regs.erases + regs.programs, 0);
  ck_assert_uint_eq(regs.locked_writes, 0);          /* the driver stopped at LOCK */
  flash_regs_model_reset(&regs);
  regs.bus_errors = 0;
  ck_assert_int_eq(flash_stm32_program(0x08040000u, data, sizeof(data)), FLASH_OK);
  ck_assert_mem_eq(tl_flash_at(&fl, 0x08040000u), data, sizeof(data));
  assert_clean();
  free(before);
}
END_TEST

/* PSIZE pinned to another size than the store: PGPERR, mapped, nothing written. */
START_TEST(driver_psize_mismatch_mapped)
{
  uint8_t data[4] = { 0, 0, 0, 0 };
  regs.stuck_psize = 2;  /* x32 */
  ck_assert_int_eq(flash_stm32_program(0x08020001u, data, 1), FLASH_ERR_PARALLELISM);
  regs.stuck_psize = 0;  /* x8 */
  ck_assert_int_eq(flash_stm32_program(0x08020004u, data, 4), FLASH_ERR_PARALLELISM);
  regs.stuck_psize = 3;  /* x64 */
  ck_assert_int_eq(flash_stm32_program(0x08020008u, data, 2), FLASH_ERR_PARALLELISM);
  ck_assert(tl_flash_is_erased(&fl, 0x08020000u, 16));
  ck_assert_uint_eq(regs.programs, 0);
  assert_clean();
}
END_TEST

/* Each error flag, injected into an erase and a program, is mapped and cleared. */
START_TEST(driver_maps_every_error_flag)
{
  static const struct {
    uint32_t sr;
    enum flash_result r;
  } map[] = {
    { FLASH_SR_WRPERR, FLASH_ERR_PROTECTED },
    { FLASH_SR_PGAERR, FLASH_ERR_ALIGN },
    { FLASH_SR_PGPERR, FLASH_ERR_PARALLELISM },
    { FLASH_SR_PGSERR, FLASH_ERR_SEQUENCE },
    { FLASH_SR_OPERR, FLASH_ERR_SEQUENCE },
    { FLASH_SR_OPERR | FLASH_SR_WRPERR, FLASH_ERR_PROTECTED },
  };
  uint8_t data[4] = { 0 };
  unsigned i = (unsigned)_i;
  regs.inject_sr = map[i].sr;
  ck_assert_int_eq(flash_stm32_erase_sector(7), map[i].r);
  assert_clean();
  regs.inject_sr = map[i].sr;
  ck_assert_int_eq(flash_stm32_program(0x08060000u, data, sizeof(data)), map[i].r);
  assert_clean();
  ck_assert_uint_eq(regs.erases + regs.programs, 0);
  ck_assert(tl_flash_is_erased(&fl, 0x08060000u, 16));
}
END_TEST

/* Slow operations: the driver polls BSY and never touches the flash while it is set. */
START_TEST(driver_polls_bsy)
{
  uint8_t data[37];
  regs.busy_reads = 50;
  tl_fill_random(data, sizeof(data), 11);
  memset(fl.mem + 0x40000, 0, 0x20000);
  ck_assert_int_eq(flash_stm32_erase_sector(6), FLASH_OK);
  ck_assert(tl_flash_is_erased(&fl, 0x08040000u, 0x20000));
  ck_assert_int_eq(flash_stm32_program(0x08040003u, data, sizeof(data)), FLASH_OK);
  ck_assert_mem_eq(tl_flash_at(&fl, 0x08040003u), data, sizeof(data));
  assert_clean();
}
END_TEST

/* With the ART data cache on (as the firmware runs), each change resets it, legally. */
START_TEST(driver_flushes_data_cache)
{
  uint32_t acr = 5u | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
  uint8_t data[4] = { 0 };
  mmio_write32(FLASH_ACR, acr);
  ck_assert_int_eq(flash_stm32_erase_sector(4), FLASH_OK);
  ck_assert_int_eq(flash_stm32_program(0x08010000u, data, sizeof(data)), FLASH_OK);
  ck_assert_uint_eq(mmio_read32(FLASH_ACR), acr);
  assert_clean();
}
END_TEST

/* ---- the flash writer through the driver --------------------------------------------- */

START_TEST(writer_through_driver)
{
  struct image_area area = { TL_USER_BASE, TL_USER_END };
  struct iap_writer w;
  struct iap_error err;
  struct iap_result res;
  size_t size = 150001;  /* sectors 4 and 5, odd size */
  uint8_t *img = tl_app(size, 77);

  regs.busy_reads = 3;
  iap_writer_init(&w, &area, flash_regs_model_dev(&regs, NULL, NULL));
  ck_assert_int_eq(iap_writer_begin(&w, "TFTP", "test", 0, &err), IAP_OK);
  for (size_t off = 0; off < size; off += 512) {
    size_t n = size - off < 512 ? size - off : 512;
    ck_assert_int_eq(iap_writer_write(&w, img + off, n, &err), IAP_OK);
  }
  ck_assert_int_eq(iap_writer_finish(&w, &res, &err), IAP_OK);
  ck_assert_uint_eq(res.size, size);
  ck_assert_mem_eq(tl_flash_at(&fl, TL_USER_BASE), img, size);
  ck_assert_uint_eq(fl.model.erase_count[4], 1);
  ck_assert_uint_eq(fl.model.erase_count[5], 1);
  ck_assert_uint_eq(fl.model.erase_count[11], 1);  /* the commit record's sector, first */
  ck_assert_uint_eq(tl_total_erases(&fl), 3);
  ck_assert_uint_eq(tl_flash_le32(&fl, TL_USER_END - 128u), 0x52504149u);  /* "IAPR" */
  ck_assert_uint_eq(tl_flash_le32(&fl, TL_USER_END - 68u), 0x544D4D43u);   /* "CMMT" */
  assert_clean();
  free(img);
}
END_TEST

START_TEST(writer_through_driver_refuses_when_locked)
{
  struct image_area area = { TL_USER_BASE, TL_USER_END };
  struct iap_writer w;
  struct iap_error err;
  uint8_t *img = tl_app(4096, 78);

  mmio_write32(FLASH_KEYR, 0);
  iap_writer_init(&w, &area, flash_regs_model_dev(&regs, NULL, NULL));
  ck_assert_int_eq(iap_writer_begin(&w, "TFTP", "test", 0, &err), IAP_OK);
  ck_assert_int_eq(iap_writer_write(&w, img, 4096, &err), IAP_ERR_FLASH);
  /* the commit record's sector goes first */
  tl_assert_contains(err.message, "flash erase of sector 11 (0x080e0000) failed: "
                                  "flash control register is locked");
  ck_assert(tl_flash_is_erased(&fl, TL_USER_BASE, 0x10000));
  free(img);
}
END_TEST

static Suite *flash_stm32_suite(void)
{
  Suite *s = suite_create("flash_stm32");
  TCase *model = tcase_create("register model");
  tcase_add_checked_fixture(model, setup, teardown);
  tcase_add_test(model, model_reset_state);
  tcase_add_test(model, model_locked_cr_ignores_writes);
  tcase_add_test(model, model_keys_unlock_and_lock_bit_relocks);
  tcase_add_loop_test(model, model_wrong_key_locks_until_reset, 0, 3);
  tcase_add_test(model, model_program_rules);
  tcase_add_test(model, model_erase_rules);
  tcase_add_test(model, model_counts_stalls_and_cache_misuse);
  suite_add_tcase(s, model);

  TCase *drv = tcase_create("driver");
  tcase_add_checked_fixture(drv, setup, teardown);
  tcase_set_timeout(drv, 60);
  tcase_add_test(drv, driver_erases_a_sector_and_locks);
  tcase_add_test(drv, driver_programs_words);
  tcase_add_loop_test(drv, driver_programs_unaligned_edges, 0, 48);
  tcase_add_test(drv, driver_program_keeps_old_and_new);
  tcase_add_test(drv, driver_reads);
  tcase_add_test(drv, driver_range_checked_before_any_access);
  tcase_add_test(drv, driver_protected_sector_mapped);
  tcase_add_test(drv, driver_program_stops_at_first_error);
  tcase_add_test(drv, driver_wrong_key_locked_until_reset);
  tcase_add_test(drv, driver_psize_mismatch_mapped);
  tcase_add_loop_test(drv, driver_maps_every_error_flag, 0, 6);
  tcase_add_test(drv, driver_polls_bsy);
  tcase_add_test(drv, driver_flushes_data_cache);
  tcase_add_test(drv, writer_through_driver);
  tcase_add_test(drv, writer_through_driver_refuses_when_locked);
  suite_add_tcase(s, drv);
  return s;
}

int main(void)
{
  return tl_run(flash_stm32_suite());
}
