/*
 * Vector table checks (src/image.c), the reset decision (src/boot.c) over the emulated flash,
 * and CRC-32 (src/crc32.c).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "crc32.h"
#include "flash.h"
#include "image.h"
#include "testlib.h"

static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };

/* ---- image_sp_valid -------------------------------------------------------------------- */

START_TEST(sp_boundaries)
{
  static const struct { uint32_t sp; bool valid; } cases[] = {
    { 0x20000000u, false },  /* bottom of SRAM: a push would leave RAM */
    { 0x20000004u, true },
    { 0x2001FFFCu, true },
    { 0x20020000u, true },   /* _estack, top of the 128 KiB: inclusive */
    { 0x20020004u, false },
    { 0x20020002u, false },
    { 0x20001001u, false },  /* unaligned */
    { 0x20001002u, false },
    { 0x20001003u, false },
    { 0x10000000u, false },  /* bottom of CCM RAM */
    { 0x10000004u, true },
    { 0x10010000u, true },   /* top of the 64 KiB CCM RAM */
    { 0x10010004u, false },
    { 0x1000FFFEu, false },
    { 0x00000000u, false },
    { 0x08010000u, false },  /* flash */
    { 0xFFFFFFFFu, false },  /* erased */
    { 0xFFFFFFFCu, false },
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    ck_assert_msg(image_sp_valid(cases[i].sp) == cases[i].valid, "sp 0x%08x: expected %s",
                  cases[i].sp, cases[i].valid ? "valid" : "invalid");
}
END_TEST

/* ST's examples' test, written here as the reference to compare against (not used by iapd). */
static bool st_mask_sp_valid(uint32_t sp)
{
  return (sp & 0x2FFE0000u) == 0x20000000u;
}

START_TEST(sp_versus_st_mask)
{
  static const struct { uint32_t sp; bool st; bool ours; const char *why; } cases[] = {
    { 0x20001000u, true, true, "ordinary SRAM stack: both accept" },
    { 0x2001FFFCu, true, true, "just below the top: both accept" },
    { 0x08000000u, false, false, "flash: both reject" },
    { 0xFFFFFFFFu, false, false, "erased: both reject" },
    { 0x20020000u, false, true, "_estack = top of SRAM: ST rejects, we accept" },
    { 0x10010000u, false, true, "top of CCM RAM: ST rejects, we accept" },
    { 0x30000000u, true, false, "not RAM (bit 28 not in the mask): ST accepts, we reject" },
    { 0xF0000000u, true, false, "not RAM (bits 31:30 not in the mask): ST accepts, we reject" },
    { 0x2001FFFEu, true, false, "unaligned: ST accepts, we reject" },
    { 0x20000000u, true, false, "bottom of SRAM, nothing below it: ST accepts, we reject" },
  };
  unsigned differ = 0;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ck_assert_msg(st_mask_sp_valid(cases[i].sp) == cases[i].st, "ST mask, 0x%08x: %s",
                  cases[i].sp, cases[i].why);
    ck_assert_msg(image_sp_valid(cases[i].sp) == cases[i].ours, "ours, 0x%08x: %s",
                  cases[i].sp, cases[i].why);
    if (cases[i].st != cases[i].ours)
      differ++;
  }
  ck_assert_uint_eq(differ, 6);
}
END_TEST

/* ---- image_check_vectors ------------------------------------------------------------- */

START_TEST(vectors_valid)
{
  char msg[256] = "untouched";
  ck_assert(image_check_vectors(&user_area, TL_SP, 0x080101C9u, msg, sizeof(msg)));
  ck_assert(image_check_vectors(&user_area, 0x10010000u, 0x080FFFFDu, msg, sizeof(msg)));
  ck_assert(image_check_vectors(&user_area, 0x20000004u, 0x08010001u, msg, sizeof(msg)));
}
END_TEST

START_TEST(vectors_linked_for_bootloader_address)
{
  char msg[256];
  ck_assert(!image_check_vectors(&user_area, TL_SP, 0x080001C9u, msg, sizeof(msg)));
  tl_assert_contains(msg, "image linked for 0x08000000, expected 0x08010000");
  /* The reset handler of a bigger image linked for 0x08000000 may sit in sector 3 or 1. */
  ck_assert(!image_check_vectors(&user_area, TL_SP, 0x0800C001u, msg, sizeof(msg)));
  tl_assert_contains(msg, "image linked for 0x0800c000, expected 0x08010000");
  ck_assert(!image_check_vectors(&user_area, TL_SP, 0x0800FFFDu, msg, sizeof(msg)));
  tl_assert_contains(msg, "expected 0x08010000");
}
END_TEST

START_TEST(vectors_linked_for_other_area)
{
  const struct image_area area = { 0x08020000u, TL_USER_END };
  char msg[256];
  /* Built for the default area, uploaded with --user-flash 0x08020000. */
  ck_assert(!image_check_vectors(&area, TL_SP, 0x080101C9u, msg, sizeof(msg)));
  tl_assert_contains(msg, "image linked for 0x08010000, expected 0x08020000");
  ck_assert(image_check_vectors(&area, TL_SP, 0x080201C9u, msg, sizeof(msg)));
}
END_TEST

START_TEST(vectors_reset_without_thumb_bit)
{
  char msg[256];
  ck_assert(!image_check_vectors(&user_area, TL_SP, 0x080101C8u, msg, sizeof(msg)));
  tl_assert_contains(msg, "0x080101c8");
  tl_assert_contains(msg, "Thumb bit");
}
END_TEST

START_TEST(vectors_reset_outside_user_area)
{
  static const uint32_t resets[] = { 0x20000101u, 0x00000001u, 0x1FFF0001u, 0xFFFFFFFFu,
                                     0x08100001u };
  char msg[256];
  for (size_t i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
    char want[32];
    ck_assert_msg(!image_check_vectors(&user_area, TL_SP, resets[i], msg, sizeof(msg)),
                  "reset 0x%08x accepted", resets[i]);
    tl_assert_contains(msg, "does not point into the user flash 0x08010000-0x080fffff");
    snprintf(want, sizeof(want), "0x%08x", resets[i]);
    tl_assert_contains(msg, want);
  }
  /* The area's end is exclusive. */
  const struct image_area small = { 0x08010000u, 0x08020000u };
  ck_assert(!image_check_vectors(&small, TL_SP, 0x08020001u, msg, sizeof(msg)));
  ck_assert(image_check_vectors(&small, TL_SP, 0x0801FFFFu, msg, sizeof(msg)));
}
END_TEST

START_TEST(vectors_erased)
{
  char msg[256];
  ck_assert(!image_check_vectors(&user_area, 0xFFFFFFFFu, 0xFFFFFFFFu, msg, sizeof(msg)));
  ck_assert_str_eq(msg, "not an application image: it starts with an erased (all 0xFF) "
                   "vector table");
}
END_TEST

START_TEST(vectors_invalid_sp)
{
  char msg[256];
  ck_assert(!image_check_vectors(&user_area, 0x20020004u, 0x080101C9u, msg, sizeof(msg)));
  tl_assert_contains(msg, "initial stack pointer 0x20020004");
  /* A plain data file: "Hello, w" as the vector table. */
  ck_assert(!image_check_vectors(&user_area, 0x6C6C6548u, 0x77202C6Fu, msg, sizeof(msg)));
  tl_assert_contains(msg, "not an application image");
}
END_TEST

START_TEST(vectors_message_truncated)
{
  char msg[16];
  memset(msg, 'x', sizeof(msg));
  ck_assert(!image_check_vectors(&user_area, TL_SP, 0x080001C9u, msg, sizeof(msg)));
  ck_assert_uint_eq(strlen(msg), sizeof(msg) - 1);
  ck_assert_str_eq(msg, "image linked fo");
}
END_TEST

/* ---- image_check_extent -------------------------------------------------------------- */

START_TEST(extent)
{
  char msg[256];
  /* Reset handler at offset 0x100: the image must be at least 0x101 bytes. */
  ck_assert(image_check_extent(&user_area, 0x08010101u, 0x101, msg, sizeof(msg)));
  ck_assert(image_check_extent(&user_area, 0x08010101u, 0x20000, msg, sizeof(msg)));
  ck_assert(!image_check_extent(&user_area, 0x08010101u, 0x100, msg, sizeof(msg)));
  ck_assert_str_eq(msg, "image truncated: its reset vector 0x08010101 points past the end "
                   "of the 256-byte image");
  /* Linked for 0x08020000 and uploaded to 0x08010000: the vectors pass (the reset handler
   * lies in the user area), the extent does not. */
  ck_assert(image_check_vectors(&user_area, TL_SP, 0x08020201u, msg, sizeof(msg)));
  ck_assert(!image_check_extent(&user_area, 0x08020201u, 20000, msg, sizeof(msg)));
  tl_assert_contains(msg, "image linked for 0x08020000, expected 0x08010000");
  tl_assert_contains(msg, "20000-byte image");
}
END_TEST

START_TEST(le32)
{
  static const uint8_t bytes[] = { 0x00, 0x00, 0x02, 0x20, 0xC9, 0x01, 0x01, 0x08 };
  ck_assert_uint_eq(image_le32(bytes), 0x20020000u);
  ck_assert_uint_eq(image_le32(bytes + 4), 0x080101C9u);
  uint8_t out[8];
  image_put_le32(out, 0x20020000u);
  image_put_le32(out + 4, 0x080101C9u);
  ck_assert_mem_eq(out, bytes, sizeof(bytes));
}
END_TEST

/* ---- boot_decide over the emulated flash ----------------------------------------------- */

static struct tl_flash flash;

static void flash_setup(void)
{
  tl_flash_open(&flash);
}

static void flash_teardown(void)
{
  tl_flash_close(&flash);
}

/* Puts a vector table at addr, as a finished upload would. */
static void store_vectors(uint32_t addr, uint32_t sp, uint32_t reset)
{
  uint8_t v[8];
  tl_put_le32(v, sp);
  tl_put_le32(v + 4, reset);
  ck_assert_int_eq(flash_program(flash.dev, addr, v, sizeof(v)), FLASH_OK);
}

START_TEST(boot_erased_stays_in_iap_mode)
{
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_NO_APP);
  ck_assert_uint_eq(d.msp, 0xFFFFFFFFu);
  ck_assert_uint_eq(d.pc, 0xFFFFFFFFu);
  tl_assert_contains(d.detail, "0x08010000");
}
END_TEST

START_TEST(boot_valid_jumps)
{
  struct boot_decision d;
  store_vectors(TL_USER_BASE, 0x2001FFF8u, 0x08010AB5u);
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_int_eq(d.reason, BOOT_REASON_VALID_APP);
  ck_assert_uint_eq(d.msp, 0x2001FFF8u);
  ck_assert_uint_eq(d.pc, 0x08010AB5u);  /* as stored, Thumb bit included */
}
END_TEST

START_TEST(boot_key_held)
{
  struct boot_decision d;
  store_vectors(TL_USER_BASE, TL_SP, 0x080101C9u);
  boot_decide(true, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_KEY);
  /* Key wins on an erased chip too. */
  const struct image_area other = { 0x08020000u, TL_USER_END };
  boot_decide(true, &other, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_KEY);
}
END_TEST

START_TEST(boot_invalid_sp)
{
  struct boot_decision d;
  store_vectors(TL_USER_BASE, 0x30000000u, 0x080101C9u);
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_INVALID_APP);
  ck_assert_uint_eq(d.msp, 0x30000000u);
  ck_assert_uint_eq(d.pc, 0x080101C9u);
  tl_assert_contains(d.detail, "initial stack pointer 0x30000000");
}
END_TEST

START_TEST(boot_linked_for_bootloader)
{
  struct boot_decision d;
  store_vectors(TL_USER_BASE, TL_SP, 0x080001C9u);
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_INVALID_APP);
  tl_assert_contains(d.detail, "image linked for 0x08000000, expected 0x08010000");
}
END_TEST

START_TEST(boot_half_erased_table_is_invalid)
{
  /* SP programmed, reset vector still erased: not "no application", not bootable. */
  struct boot_decision d;
  store_vectors(TL_USER_BASE, TL_SP, 0xFFFFFFFFu);
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_INVALID_APP);
}
END_TEST

START_TEST(boot_reads_its_own_area)
{
  struct boot_decision d;
  const struct image_area other = { 0x08020000u, TL_USER_END };
  store_vectors(TL_USER_BASE, TL_SP, 0x080101C9u);
  boot_decide(false, &other, flash.dev, &d);
  ck_assert_int_eq(d.reason, BOOT_REASON_NO_APP);
  store_vectors(0x08020000u, TL_SP, 0x080201C9u);
  boot_decide(false, &other, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_uint_eq(d.pc, 0x080201C9u);
}
END_TEST

START_TEST(boot_flash_error)
{
  struct boot_decision d;
  const struct image_area outside = { 0x08100000u, 0x08200000u };
  boot_decide(false, &outside, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_FLASH_ERROR);
  tl_assert_contains(d.detail, "0x08100000");
}
END_TEST

START_TEST(boot_reason_strings)
{
  static const enum boot_reason reasons[] = { BOOT_REASON_KEY, BOOT_REASON_NO_APP,
    BOOT_REASON_INVALID_APP, BOOT_REASON_FLASH_ERROR, BOOT_REASON_VALID_APP };
  for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
    ck_assert_str_ne(boot_reason_str(reasons[i]), "unknown");
    for (size_t j = 0; j < i; j++)
      ck_assert_str_ne(boot_reason_str(reasons[i]), boot_reason_str(reasons[j]));
  }
}
END_TEST

/* ---- CRC-32 ------------------------------------------------------------------------- */

START_TEST(crc32_check_value)
{
  ck_assert_uint_eq(crc32_update(0, "123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43),
                    0x414FA339u);
  ck_assert_uint_eq(crc32_update(0, "", 0), 0);
  ck_assert_uint_eq(crc32_update(0, "a", 1), 0xE8B7BE43u);
}
END_TEST

START_TEST(crc32_incremental)
{
  uint8_t data[1031];
  tl_fill_random(data, sizeof(data), 42);
  uint32_t whole = crc32_update(0, data, sizeof(data));
  for (size_t split = 0; split <= sizeof(data); split++) {
    uint32_t crc = crc32_update(0, data, split);
    crc = crc32_update(crc, data + split, sizeof(data) - split);
    ck_assert_uint_eq(crc, whole);
  }
  uint32_t crc = 0;
  for (size_t i = 0; i < sizeof(data); i++)
    crc = crc32_update(crc, data + i, 1);
  ck_assert_uint_eq(crc, whole);
  /* An empty update changes nothing. */
  ck_assert_uint_eq(crc32_update(whole, data, 0), whole);
}
END_TEST

static Suite *image_suite(void)
{
  Suite *s = suite_create("image");
  TCase *tc = tcase_create("vectors");
  tcase_add_test(tc, sp_boundaries);
  tcase_add_test(tc, sp_versus_st_mask);
  tcase_add_test(tc, vectors_valid);
  tcase_add_test(tc, vectors_linked_for_bootloader_address);
  tcase_add_test(tc, vectors_linked_for_other_area);
  tcase_add_test(tc, vectors_reset_without_thumb_bit);
  tcase_add_test(tc, vectors_reset_outside_user_area);
  tcase_add_test(tc, vectors_erased);
  tcase_add_test(tc, vectors_invalid_sp);
  tcase_add_test(tc, vectors_message_truncated);
  tcase_add_test(tc, extent);
  tcase_add_test(tc, le32);
  suite_add_tcase(s, tc);

  tc = tcase_create("boot");
  tcase_add_checked_fixture(tc, flash_setup, flash_teardown);
  tcase_add_test(tc, boot_erased_stays_in_iap_mode);
  tcase_add_test(tc, boot_valid_jumps);
  tcase_add_test(tc, boot_key_held);
  tcase_add_test(tc, boot_invalid_sp);
  tcase_add_test(tc, boot_linked_for_bootloader);
  tcase_add_test(tc, boot_half_erased_table_is_invalid);
  tcase_add_test(tc, boot_reads_its_own_area);
  tcase_add_test(tc, boot_flash_error);
  tcase_add_test(tc, boot_reason_strings);
  suite_add_tcase(s, tc);

  tc = tcase_create("crc32");
  tcase_add_test(tc, crc32_check_value);
  tcase_add_test(tc, crc32_incremental);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(image_suite());
}
