/*
 * The flash writer (src/iap_writer.c) over the emulated chip (emul/flash_model.c attached to
 * the flash seam): exact flash contents after every kind of upload, refused or not.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "crc32.h"
#include "flash.h"
#include "iap_writer.h"
#include "image_record.h"
#include "testlib.h"

static struct tl_flash flash;
static struct iap_writer writer;
static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };

static void setup(void)
{
  tl_flash_open(&flash);
  iap_writer_init(&writer, &user_area, flash.dev);
}

static void teardown(void)
{
  tl_flash_close(&flash);
}

/* Erases the chip (all but the protected bootloader sectors) between runs in one test. */
static void reset_chip(void)
{
  memset(flash.mem + (stm32_flash_sector_base(4) - STM32_FLASH_BASE), 0xFF,
         STM32_FLASH_END - stm32_flash_sector_base(4));
  memset(flash.model.erase_count, 0, sizeof(flash.model.erase_count));
}

static void begin_ok(uint32_t expected)
{
  struct iap_error err;
  enum iap_status st = iap_writer_begin(&writer, "TEST", "192.0.2.1", expected, &err);
  ck_assert_msg(st == IAP_OK, "begin: %d %s", st, err.message);
  ck_assert(iap_writer_busy(&writer));
}

static void write_ok(const uint8_t *data, size_t len)
{
  struct iap_error err;
  enum iap_status st = iap_writer_write(&writer, data, len, &err);
  ck_assert_msg(st == IAP_OK, "write of %zu bytes: %d %s", len, st, err.message);
}

/* Writes img in chunks of `chunk` bytes (0: one call). */
static void write_chunked(const uint8_t *img, size_t size, size_t chunk)
{
  if (chunk == 0)
    chunk = size;
  for (size_t off = 0; off < size; off += chunk)
    write_ok(img + off, size - off < chunk ? size - off : chunk);
}

static struct iap_result finish_ok(void)
{
  struct iap_result res;
  struct iap_error err;
  enum iap_status st = iap_writer_finish(&writer, &res, &err);
  ck_assert_msg(st == IAP_OK, "finish: %d %s", st, err.message);
  ck_assert(!iap_writer_busy(&writer));
  return res;
}

/* A whole successful upload. */
static struct iap_result upload(const uint8_t *img, size_t size, size_t chunk)
{
  begin_ok((uint32_t)size);
  write_chunked(img, size, chunk);
  return finish_ok();
}

/* The bootloader sectors never change. */
static void assert_bootloader_intact(void)
{
  for (uint32_t i = 0; i < stm32_flash_sector_base(4) - STM32_FLASH_BASE; i++)
    ck_assert_uint_eq(flash.mem[i], (uint8_t)(i * 31u + 7u));
}

START_TEST(odd_size_written_exactly)
{
  const size_t size = 20001;
  uint8_t *img = tl_app(size, 1);
  struct iap_result res = upload(img, size, 0);

  ck_assert_uint_eq(res.size, size);
  ck_assert_uint_eq(res.crc32, crc32_update(0, img, size));
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  /* The rest of sector 4 and every sector after it: erased, never programmed, but for the
   * commit record at the end of the user flash (sector 11, erased first). */
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE + (uint32_t)size,
                               TL_USER_CAPACITY - (uint32_t)size));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_END - 128u), IAP_RECORD_MAGIC);
  ck_assert(tl_flash_is_erased(&flash, TL_USER_END - 64u, 64u));  /* no progress words */
  ck_assert_uint_eq(flash.model.erase_count[4], 1);
  ck_assert_uint_eq(flash.model.erase_count[11], 1);
  ck_assert_uint_eq(tl_total_erases(&flash), 2);
  assert_bootloader_intact();

  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_uint_eq(d.pc, TL_USER_BASE + 0x1C9u);
  free(img);
}
END_TEST

START_TEST(head_programmed_last)
{
  const size_t size = 3000 + (size_t)_i;  /* every tail length 0..3 */
  uint8_t *img = tl_app(size, 2);
  struct iap_result res;
  struct iap_error err;

  begin_ok(0);
  write_chunked(img, size, 100);
  /* Everything is written, nothing finished: the vector table slot is still erased, so a
   * reset now stays in IAP mode. */
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, 8));
  /* The body's whole words are in. */
  size_t words_end = size & ~(size_t)3;
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE + 8), img + 8, words_end - 8);
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.reason, BOOT_REASON_NO_APP);

  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_OK);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE + (uint32_t)size, 64));
  free(img);
}
END_TEST

/* A refused vector table leaves every byte of the chip as it was. */
static void assert_refused_untouched(const uint8_t *img, size_t size, size_t chunk,
                                     const char *want_msg)
{
  uint8_t *before = tl_flash_snapshot(&flash);
  unsigned erases = tl_total_erases(&flash);
  struct iap_error err;
  enum iap_status st = IAP_OK;

  begin_ok((uint32_t)size);
  for (size_t off = 0; off < size && st == IAP_OK; off += chunk)
    st = iap_writer_write(&writer, img + off, size - off < chunk ? size - off : chunk, &err);
  ck_assert_int_eq(st, IAP_ERR_INVALID_IMAGE);
  tl_assert_contains(err.message, want_msg);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  ck_assert_uint_eq(tl_total_erases(&flash), erases);
  /* Further writes are refused as out of order, and change nothing either. */
  ck_assert_int_eq(iap_writer_write(&writer, img, size, &err), IAP_ERR_STATE);
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  free(before);
}

START_TEST(bad_vectors_leave_flash_untouched)
{
  const size_t size = 5000;
  uint8_t *img = tl_image(size, TL_SP, 0x080001C9u, 3);  /* linked for 0x08000000 */
  assert_refused_untouched(img, size, size, "image linked for 0x08000000, expected 0x08010000");
  /* The head split over calls: refused at its eighth byte. */
  assert_refused_untouched(img, size, 1, "image linked for 0x08000000");
  assert_refused_untouched(img, size, 5, "image linked for 0x08000000");
  free(img);

  img = tl_image(size, 0x6C6C6548u, 0x77202C6Fu, 4);  /* a text file */
  assert_refused_untouched(img, size, 512, "not an application image");
  free(img);
  img = tl_image(size, 0xFFFFFFFFu, 0xFFFFFFFFu, 5);  /* an erased dump */
  assert_refused_untouched(img, size, 512, "erased");
  free(img);
}
END_TEST

START_TEST(bad_vectors_keep_old_application)
{
  const size_t size = 70000;
  uint8_t *old = tl_app(size, 6);
  upload(old, size, 512);
  uint8_t *bad = tl_image(9000, TL_SP, 0x080001C9u, 7);
  assert_refused_untouched(bad, 9000, 512, "expected 0x08010000");
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), old, size);
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  free(old);
  free(bad);
}
END_TEST

START_TEST(exactly_capacity_accepted)
{
  uint8_t *img = tl_app(TL_USER_CAPACITY, 8);
  struct iap_result res = upload(img, TL_USER_CAPACITY, 4096);
  ck_assert_uint_eq(res.size, TL_USER_CAPACITY);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, TL_USER_CAPACITY);
  for (unsigned s = 4; s < STM32_FLASH_SECTOR_COUNT; s++)
    ck_assert_uint_eq(flash.model.erase_count[s], 1);
  assert_bootloader_intact();
  free(img);
}
END_TEST

START_TEST(one_byte_over_capacity_refused)
{
  uint8_t *img = tl_app(TL_USER_CAPACITY + 1, 9);
  uint8_t *old = tl_app(1000, 10);
  struct iap_error err;

  upload(old, 1000, 0);  /* a valid application to lose */
  begin_ok(0);
  write_chunked(img, TL_USER_CAPACITY, 4096);
  ck_assert_int_eq(iap_writer_write(&writer, img + TL_USER_CAPACITY, 1, &err),
                   IAP_ERR_TOO_LARGE);
  tl_assert_contains(err.message, "too large");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE + 4), 0xFFFFFFFFu);
  struct iap_result res;
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_STATE);
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  assert_bootloader_intact();
  free(img);
  free(old);
}
END_TEST

START_TEST(oversize_single_write_refused_before_erase)
{
  uint8_t *img = tl_app(TL_USER_CAPACITY + 1, 11);
  uint8_t *before = tl_flash_snapshot(&flash);
  struct iap_error err;
  begin_ok(0);
  ck_assert_int_eq(iap_writer_write(&writer, img, TL_USER_CAPACITY + 1, &err),
                   IAP_ERR_TOO_LARGE);
  ck_assert_uint_eq(tl_total_erases(&flash), 0);
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  free(img);
  free(before);
}
END_TEST

START_TEST(expected_size_over_capacity_refused_at_begin)
{
  uint8_t *old = tl_app(777, 12);
  struct iap_error err;
  upload(old, 777, 0);
  uint8_t *before = tl_flash_snapshot(&flash);
  unsigned erases = tl_total_erases(&flash);

  ck_assert_int_eq(iap_writer_begin(&writer, "TEST", "192.0.2.1", TL_USER_CAPACITY + 1, &err),
                   IAP_ERR_TOO_LARGE);
  tl_assert_contains(err.message, "982913 bytes");
  tl_assert_contains(err.message, "982912 bytes");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_int_eq(iap_writer_begin(&writer, "TEST", "192.0.2.1", 0xFFFFFFFFu, &err),
                   IAP_ERR_TOO_LARGE);
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  ck_assert_uint_eq(tl_total_erases(&flash), erases);
  /* Exactly the capacity is fine. */
  begin_ok(TL_USER_CAPACITY);
  iap_writer_abort(&writer, "test");
  free(old);
  free(before);
}
END_TEST

START_TEST(sectors_erased_as_reached)
{
  /* Sectors 6-10 hold a pattern, programmed the way the chip allows. */
  uint8_t *pattern = malloc(stm32_flash_sector_base(11) - stm32_flash_sector_base(6));
  const uint32_t s6 = stm32_flash_sector_base(6), plen = stm32_flash_sector_base(11) - s6;
  ck_assert_ptr_nonnull(pattern);
  for (uint32_t i = 0; i < plen; i++)
    pattern[i] = (uint8_t)(0x5A ^ (i >> 3));
  ck_assert_int_eq(flash_program(flash.dev, s6, pattern, plen), FLASH_OK);

  uint8_t *img = tl_app(70 * 1024, 13);
  begin_ok(0);
  ck_assert_uint_eq(tl_total_erases(&flash), 0);     /* nothing before the vectors */
  write_ok(img, 7);
  ck_assert_uint_eq(tl_total_erases(&flash), 0);     /* vectors incomplete */
  write_ok(img + 7, 1);
  /* checked, then the record's sector 11 (no old record survives), then sector 4 */
  ck_assert_uint_eq(flash.model.erase_count[11], 1);
  ck_assert_uint_eq(flash.model.erase_count[4], 1);
  ck_assert_uint_eq(tl_total_erases(&flash), 2);
  write_ok(img + 8, 64 * 1024 - 8);
  ck_assert_uint_eq(flash.model.erase_count[5], 0);  /* sector 4 exactly full */
  write_ok(img + 64 * 1024, 4);
  ck_assert_uint_eq(flash.model.erase_count[5], 1);
  write_ok(img + 64 * 1024 + 4, 6 * 1024 - 4);

  ck_assert_uint_eq(flash.model.erase_count[4], 1);
  ck_assert_uint_eq(flash.model.erase_count[5], 1);
  ck_assert_uint_eq(tl_total_erases(&flash), 3);
  ck_assert_mem_eq(tl_flash_at(&flash, s6), pattern, plen);
  finish_ok();
  ck_assert_uint_eq(tl_total_erases(&flash), 3);
  ck_assert_mem_eq(tl_flash_at(&flash, s6), pattern, plen);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, 70 * 1024);
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE + 70 * 1024, s6 - TL_USER_BASE - 70 * 1024));
  free(img);
  free(pattern);
}
END_TEST

START_TEST(second_begin_is_busy)
{
  const size_t size = 4000;
  uint8_t *img = tl_app(size, 14);
  struct iap_error err;
  begin_ok((uint32_t)size);
  write_ok(img, 1000);
  ck_assert_int_eq(iap_writer_begin(&writer, "HTTP", "192.0.2.99", 0, &err), IAP_ERR_BUSY);
  tl_assert_contains(err.message, "busy");
  tl_assert_contains(err.message, "TEST");
  tl_assert_contains(err.message, "192.0.2.1");
  ck_assert(iap_writer_busy(&writer));
  write_ok(img + 1000, size - 1000);
  struct iap_result res = finish_ok();
  ck_assert_uint_eq(res.size, size);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  free(img);
}
END_TEST

START_TEST(abort_midway_leaves_no_application)
{
  const size_t size = 100000;
  uint8_t *old = tl_app(5000, 15);
  uint8_t *img = tl_app(size, 16);
  struct iap_error err;
  upload(old, 5000, 0);
  begin_ok((uint32_t)size);
  write_ok(img, 50001);
  iap_writer_abort(&writer, "client went away");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE + 4), 0xFFFFFFFFu);
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.reason, BOOT_REASON_NO_APP);
  ck_assert_int_eq(iap_writer_write(&writer, img, 4, &err), IAP_ERR_STATE);
  iap_writer_abort(&writer, "again");  /* harmless when idle */
  /* A new upload after the abort works. */
  reset_chip();
  upload(img, size, 1000);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  free(old);
  free(img);
}
END_TEST

START_TEST(chunk_sizes_give_identical_flash)
{
  static const size_t chunks[] = { 0, 1, 3, 5, 511, 512, 513, 4097 };
  const size_t size = 33333;
  uint8_t *img = tl_app(size, 17);
  uint8_t *reference = NULL;
  uint32_t crc = crc32_update(0, img, size);

  for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
    reset_chip();
    struct iap_result res = upload(img, size, chunks[i]);
    ck_assert_uint_eq(res.size, size);
    ck_assert_uint_eq(res.crc32, crc);
    if (!reference) {
      reference = tl_flash_snapshot(&flash);
      ck_assert_mem_eq(reference + (TL_USER_BASE - STM32_FLASH_BASE), img, size);
    } else {
      ck_assert_msg(memcmp(flash.mem, reference, STM32_FLASH_SIZE) == 0,
                    "chunks of %zu bytes", chunks[i]);
    }
  }
  /* Random chunk sizes, 1 to 700. */
  uint32_t rng = 99;
  reset_chip();
  begin_ok(0);
  for (size_t off = 0; off < size;) {
    size_t n = 1 + tl_rand(&rng) % 700;
    if (n > size - off)
      n = size - off;
    write_ok(img + off, n);
    off += n;
  }
  finish_ok();
  ck_assert_int_eq(memcmp(flash.mem, reference, STM32_FLASH_SIZE), 0);
  free(reference);
  free(img);
}
END_TEST

START_TEST(reset_vector_past_end_refused_at_finish)
{
  /* Linked for 0x08020000: its reset handler (sector 5) lies in the user area, so the
   * vectors pass, but the image is 20000 bytes long. */
  const size_t size = 20000;
  uint8_t *img = tl_image(size, TL_SP, 0x08020201u, 18);
  struct iap_result res;
  struct iap_error err;
  begin_ok((uint32_t)size);
  write_chunked(img, size, 512);
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_INVALID_IMAGE);
  tl_assert_contains(err.message, "image linked for 0x08020000, expected 0x08010000");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, 8));
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  free(img);
}
END_TEST

START_TEST(too_small_refused_at_finish)
{
  uint8_t *img = tl_app(8, 19);
  struct iap_result res;
  struct iap_error err;
  for (size_t size = 0; size < 8; size++) {
    begin_ok(0);
    write_chunked(img, size, 3);
    ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_INVALID_IMAGE);
    tl_assert_contains(err.message, "too small");
    ck_assert(!iap_writer_busy(&writer));
    ck_assert_uint_eq(tl_total_erases(&flash), 0);
    ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, STM32_FLASH_END - TL_USER_BASE));
  }
  /* Eight bytes: a vector table with its reset handler past the end. */
  begin_ok(0);
  write_ok(img, 8);
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_INVALID_IMAGE);
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, 8));
  free(img);
}
END_TEST

START_TEST(crc_is_crc32_of_image)
{
  static const size_t sizes[] = { 8, 9, 12, 0x1CA, 4096, 65537 };
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint8_t *img = tl_app(sizes[i], 20 + (uint32_t)i);
    if (sizes[i] < 0x1CA)  /* a tiny image: reset handler at its last halfword */
      tl_put_le32(img + 4, TL_USER_BASE + (uint32_t)((sizes[i] - 2) & ~(size_t)1) + 1u);
    reset_chip();
    struct iap_result res = upload(img, sizes[i], 7);
    ck_assert_uint_eq(res.size, sizes[i]);
    ck_assert_uint_eq(res.crc32, crc32_update(0, img, sizes[i]));
    ck_assert_uint_eq(res.crc32, crc32_update(0, tl_flash_at(&flash, TL_USER_BASE), sizes[i]));
    free(img);
  }
}
END_TEST

START_TEST(other_user_area)
{
  const struct image_area area = { 0x08020000u, TL_USER_END };
  const size_t size = 150000;
  uint8_t *old = tl_app(3000, 21);  /* an application at the default address */
  uint8_t *img = tl_image(size, TL_SP, 0x08020301u, 22);
  struct iap_error err;

  upload(old, 3000, 0);
  iap_writer_init(&writer, &area, flash.dev);
  /* 896 KiB less the 128 bytes of the record area */
  ck_assert_int_eq(iap_writer_begin(&writer, "TEST", "x", 0xDFF81u, &err), IAP_ERR_TOO_LARGE);
  begin_ok(0xDFF80u);
  iap_writer_abort(&writer, "test");

  /* An image linked for 0x08010000 does not go to 0x08020000. */
  uint8_t *wrong = tl_app(4000, 23);
  begin_ok(4000);
  ck_assert_int_eq(iap_writer_write(&writer, wrong, 4000, &err), IAP_ERR_INVALID_IMAGE);
  tl_assert_contains(err.message, "image linked for 0x08010000, expected 0x08020000");

  struct iap_result res = upload(img, size, 1024);
  ck_assert_uint_eq(res.size, size);
  ck_assert_mem_eq(tl_flash_at(&flash, 0x08020000u), img, size);
  ck_assert_uint_eq(flash.model.erase_count[4], 1);  /* only by the first upload */
  ck_assert_uint_eq(flash.model.erase_count[5], 1);
  ck_assert_uint_eq(flash.model.erase_count[6], 1);
  ck_assert_uint_eq(flash.model.erase_count[7], 0);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), old, 3000);
  struct boot_decision d;
  boot_decide(false, &area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_uint_eq(d.pc, 0x08020301u);
  free(old);
  free(img);
  free(wrong);
}
END_TEST

START_TEST(protected_sector_refused)
{
  /* A user area over the write-protected bootloader: the erase fails, nothing changes. */
  const struct image_area area = { STM32_FLASH_BASE, TL_USER_END };
  uint8_t *img = tl_image(2000, TL_SP, STM32_FLASH_BASE + 0x1C9u, 24);
  uint8_t *before = tl_flash_snapshot(&flash);
  struct iap_error err;
  iap_writer_init(&writer, &area, flash.dev);
  begin_ok(2000);
  ck_assert_int_eq(iap_writer_write(&writer, img, 2000, &err), IAP_ERR_FLASH);
  tl_assert_contains(err.message, "sector 0");
  tl_assert_contains(err.message, "write protected");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  free(img);
  free(before);
}
END_TEST

START_TEST(body_corrupted_before_finish_not_committed)
{
  /* A body word that changes after it was programmed and read back (a flash cell losing
   * charge, a second writer): the CRC pass at finish catches it and the head stays erased. */
  const size_t size = 6000;
  uint8_t *img = tl_app(size, 25);
  struct iap_result res;
  struct iap_error err;
  begin_ok((uint32_t)size);
  write_ok(img, size);
  flash.mem[TL_USER_BASE - STM32_FLASH_BASE + 4321] = (uint8_t)~img[4321];
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_FLASH);
  tl_assert_contains(err.message, "CRC-32");
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, 8));
  ck_assert(!iap_writer_busy(&writer));
  free(img);
}
END_TEST

/* A device that programs like the chip but leaves bit 0 of one address set: a cell that will
 * not program. */
static const struct flash_dev *weak_cell_below;
static uint32_t weak_cell_addr;

static enum flash_result weak_erase(void *ctx, unsigned sector)
{
  (void)ctx;
  return flash_erase_sector(weak_cell_below, sector);
}

static enum flash_result weak_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  uint8_t copy[4096];
  (void)ctx;
  ck_assert_uint_le(len, sizeof(copy));
  memcpy(copy, data, len);
  if (weak_cell_addr >= addr && weak_cell_addr - addr < len)
    copy[weak_cell_addr - addr] |= 1u;
  return flash_program(weak_cell_below, addr, copy, len);
}

static enum flash_result weak_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
  (void)ctx;
  return flash_read(weak_cell_below, addr, buf, len);
}

static enum flash_result weak_sync(void *ctx)
{
  (void)ctx;
  return flash_sync(weak_cell_below);
}

static const struct flash_dev_ops weak_cell_ops = { weak_erase, weak_program, weak_read,
                                                    weak_sync };

START_TEST(read_back_names_the_first_wrong_byte)
{
  /* A byte that reads back wrong right after it was programmed: the write fails, naming its
   * address, what was written and what came back; the head stays erased. */
  const size_t size = 3000;
  uint8_t *img = tl_app(size, 27);
  const struct flash_dev weak = { &weak_cell_ops, NULL };
  const uint32_t off = 1234;
  struct iap_error err;
  char want[128];

  img[off] = 0x5A;  /* bit 0 clear: the weak cell reads back 0x5B */
  weak_cell_below = flash.dev;
  weak_cell_addr = TL_USER_BASE + off;
  iap_writer_init(&writer, &user_area, &weak);
  begin_ok((uint32_t)size);
  ck_assert_int_eq(iap_writer_write(&writer, img, size, &err), IAP_ERR_FLASH);
  snprintf(want, sizeof(want), "flash verify failed at 0x%08x: wrote 0x5a, read back 0x5b "
           "(sector not erased?)", (unsigned)(TL_USER_BASE + off));
  ck_assert_str_eq(err.message, want);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE, 8));
  free(img);
}
END_TEST

static unsigned sync_calls;
static unsigned sync_fails_from;  /* the first call that fails, 1-based; 0: none */

static enum flash_result failing_sync(void *ctx)
{
  (void)ctx;
  sync_calls++;
  return sync_fails_from != 0 && sync_calls >= sync_fails_from ? FLASH_ERR_IO : FLASH_OK;
}

START_TEST(sync_failure_reported)
{
  /* The store fails after the upload began: finish says so, nothing is committed. */
  const size_t size = 1000;
  uint8_t *img = tl_app(size, 26);
  struct iap_result res;
  struct iap_error err;
  sync_calls = 0;
  sync_fails_from = 2;
  flash.dev = flash_model_dev_init(&flash.dev_model, &flash.model, failing_sync, NULL);
  iap_writer_init(&writer, &user_area, flash.dev);
  begin_ok((uint32_t)size);
  ck_assert_uint_eq(sync_calls, 1);  /* begin asked the device first */
  write_ok(img, size);
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_STORAGE);
  ck_assert_str_eq(err.message, "flash sync failed: the flash's backing store is gone or "
                   "cannot be written (iapd: restart it)");
  ck_assert_uint_ge(sync_calls, 2);
  ck_assert(!iap_writer_busy(&writer));
  free(img);
}
END_TEST

START_TEST(lost_store_refused_at_begin)
{
  /* A store already lost (iapd's flash file deleted): every upload is refused at its start,
   * before anything is erased, with what to do. */
  struct iap_error err;
  sync_calls = 0;
  sync_fails_from = 1;
  flash.dev = flash_model_dev_init(&flash.dev_model, &flash.model, failing_sync, NULL);
  iap_writer_init(&writer, &user_area, flash.dev);
  uint8_t *before = tl_flash_snapshot(&flash);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(iap_writer_begin(&writer, "TEST", "192.0.2.1", 1000, &err),
                     IAP_ERR_STORAGE);
    ck_assert_str_eq(err.message, "upload refused: the flash's backing store is gone or "
                     "cannot be written (iapd: restart it)");
    ck_assert(!iap_writer_busy(&writer));
  }
  ck_assert(memcmp(before, flash.mem, STM32_FLASH_SIZE) == 0);
  ck_assert_uint_eq(tl_total_erases(&flash), 0);
  free(before);
}
END_TEST

START_TEST(calls_out_of_order)
{
  struct iap_result res;
  struct iap_error err;
  ck_assert_int_eq(iap_writer_write(&writer, (const uint8_t *)"x", 1, &err), IAP_ERR_STATE);
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_ERR_STATE);
  iap_writer_abort(&writer, "idle");
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_total_erases(&flash), 0);
}
END_TEST

START_TEST(sink_ops_route_to_writer)
{
  const size_t size = 2345;
  uint8_t *img = tl_app(size, 27);
  struct iap_result res;
  struct iap_error err;
  const struct image_sink_ops *ops = &iap_writer_sink_ops;
  ck_assert_int_eq(ops->begin(&writer, "TFTP", "192.0.2.7", (uint32_t)size, &err), IAP_OK);
  ck_assert(iap_writer_busy(&writer));
  ck_assert_int_eq(ops->write(&writer, img, size, &err), IAP_OK);
  ck_assert_int_eq(ops->finish(&writer, &res, &err), IAP_OK);
  ck_assert_uint_eq(res.crc32, crc32_update(0, img, size));
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  ck_assert_int_eq(ops->begin(&writer, "TFTP", "192.0.2.7", 0, &err), IAP_OK);
  ops->abort(&writer, "test");
  ck_assert(!iap_writer_busy(&writer));
  free(img);
}
END_TEST

static Suite *writer_suite(void)
{
  Suite *s = suite_create("iap_writer");
  TCase *tc = tcase_create("writer");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, odd_size_written_exactly);
  tcase_add_loop_test(tc, head_programmed_last, 0, 4);
  tcase_add_test(tc, bad_vectors_leave_flash_untouched);
  tcase_add_test(tc, bad_vectors_keep_old_application);
  tcase_add_test(tc, exactly_capacity_accepted);
  tcase_add_test(tc, one_byte_over_capacity_refused);
  tcase_add_test(tc, oversize_single_write_refused_before_erase);
  tcase_add_test(tc, expected_size_over_capacity_refused_at_begin);
  tcase_add_test(tc, sectors_erased_as_reached);
  tcase_add_test(tc, second_begin_is_busy);
  tcase_add_test(tc, abort_midway_leaves_no_application);
  tcase_add_test(tc, chunk_sizes_give_identical_flash);
  tcase_add_test(tc, reset_vector_past_end_refused_at_finish);
  tcase_add_test(tc, too_small_refused_at_finish);
  tcase_add_test(tc, crc_is_crc32_of_image);
  tcase_add_test(tc, other_user_area);
  tcase_add_test(tc, protected_sector_refused);
  tcase_add_test(tc, body_corrupted_before_finish_not_committed);
  tcase_add_test(tc, read_back_names_the_first_wrong_byte);
  tcase_add_test(tc, lost_store_refused_at_begin);
  tcase_add_test(tc, sync_failure_reported);
  tcase_add_test(tc, calls_out_of_order);
  tcase_add_test(tc, sink_ops_route_to_writer);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(writer_suite());
}
