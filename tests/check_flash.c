/*
 * The emulated flash: the STM32F407 sector map, the chip model (erase, AND-programming,
 * alignment, width, range, write protection), the flash seam over it (widest aligned
 * accesses) and the mmap'd backing file (creation, persistence, size check, lock, sync).
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flash.h"
#include "flash_file.h"
#include "flash_model.h"
#include "flash_model_dev.h"
#include "stm32f407.h"

/* RM0090 Table 5, written out by hand so the test does not derive it from the code. */
static const struct {
  uint32_t base;
  uint32_t size;
} sector_map[STM32_FLASH_SECTOR_COUNT] = {
  { 0x08000000u, 0x4000u },  { 0x08004000u, 0x4000u },  { 0x08008000u, 0x4000u },
  { 0x0800C000u, 0x4000u },  { 0x08010000u, 0x10000u }, { 0x08020000u, 0x20000u },
  { 0x08040000u, 0x20000u }, { 0x08060000u, 0x20000u }, { 0x08080000u, 0x20000u },
  { 0x080A0000u, 0x20000u }, { 0x080C0000u, 0x20000u }, { 0x080E0000u, 0x20000u },
};

/* ---- sector map -------------------------------------------------------------------- */

START_TEST(test_sector_base_and_size)
{
  unsigned n = (unsigned)_i;
  ck_assert_uint_eq(stm32_flash_sector_base(n), sector_map[n].base);
  ck_assert_uint_eq(stm32_flash_sector_size(n), sector_map[n].size);
}
END_TEST

START_TEST(test_sector_of_boundaries)
{
  unsigned n = (unsigned)_i;
  uint32_t first = sector_map[n].base;
  uint32_t last = sector_map[n].base + sector_map[n].size - 1;
  ck_assert_int_eq(stm32_flash_sector_of(first), (int)n);
  ck_assert_int_eq(stm32_flash_sector_of(last), (int)n);
  int next = n + 1 < STM32_FLASH_SECTOR_COUNT ? (int)n + 1 : -1;
  ck_assert_int_eq(stm32_flash_sector_of(last + 1), next);
  ck_assert(stm32_flash_is_sector_start(first));
  ck_assert(!stm32_flash_is_sector_start(first + 1));
  ck_assert(!stm32_flash_is_sector_start(last));
}
END_TEST

START_TEST(test_sector_map_outside_flash)
{
  ck_assert_uint_eq(stm32_flash_sector_size(12), 0);
  ck_assert_int_eq(stm32_flash_sector_of(0x07FFFFFFu), -1);
  ck_assert_int_eq(stm32_flash_sector_of(0x08100000u), -1);
  ck_assert_int_eq(stm32_flash_sector_of(0x00000000u), -1);
  ck_assert_int_eq(stm32_flash_sector_of(0xFFFFFFFFu), -1);
  ck_assert(!stm32_flash_is_sector_start(0x08100000u));
  ck_assert(!stm32_flash_is_sector_start(0x07FFC000u));
  ck_assert_uint_eq(STM32_FLASH_END, 0x08100000u);
}
END_TEST

/* ---- the chip model ------------------------------------------------------------------ */

static uint8_t mem[STM32_FLASH_SIZE];
static struct flash_model model;
static struct flash_model_dev model_dev;
static const struct flash_dev *dev;   /* the device over model */

static void model_setup(void)
{
  memset(mem, 0xFF, sizeof(mem));
  flash_model_init(&model, mem, 0);
  dev = flash_model_dev_init(&model_dev, &model, NULL, NULL);
}

static void model_teardown(void)
{
  dev = NULL;
}

static uint8_t byte_at(uint32_t addr)
{
  return mem[addr - STM32_FLASH_BASE];
}

START_TEST(test_erase_sets_sector_to_ff)
{
  memset(mem, 0x00, sizeof(mem));
  ck_assert_int_eq(flash_model_erase_sector(&model, 5), FLASH_OK);
  for (uint32_t a = 0x08020000u; a < 0x08040000u; a++)
    ck_assert_uint_eq(byte_at(a), 0xFF);
  /* The neighbours keep their contents. */
  ck_assert_uint_eq(byte_at(0x0801FFFFu), 0x00);
  ck_assert_uint_eq(byte_at(0x08040000u), 0x00);
  ck_assert(flash_model_sector_erased(&model, 5));
  ck_assert(!flash_model_sector_erased(&model, 4));
  ck_assert(!flash_model_sector_erased(&model, 6));
}
END_TEST

START_TEST(test_erase_counts_per_sector)
{
  ck_assert_int_eq(flash_model_erase_sector(&model, 5), FLASH_OK);
  ck_assert_int_eq(flash_model_erase_sector(&model, 5), FLASH_OK);
  ck_assert_int_eq(flash_model_erase_sector(&model, 11), FLASH_OK);
  for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++)
    ck_assert_uint_eq(model.erase_count[n], n == 5 ? 2 : n == 11 ? 1 : 0);
}
END_TEST

START_TEST(test_erase_out_of_range)
{
  memset(mem, 0x00, sizeof(mem));
  ck_assert_int_eq(flash_model_erase_sector(&model, 12), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_erase_sector(&model, UINT_MAX), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_erase_sector(dev, 12), FLASH_ERR_RANGE);
  for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++)
    ck_assert_uint_eq(model.erase_count[n], 0);
  ck_assert_uint_eq(byte_at(0x080FFFFFu), 0x00);
}
END_TEST

START_TEST(test_program_stores_old_and_new)
{
  const uint32_t a = 0x08020000u;
  ck_assert_int_eq(flash_model_program(&model, a, 0x0F, 1), FLASH_OK);
  ck_assert_uint_eq(byte_at(a), 0x0F);
  ck_assert_int_eq(flash_model_program(&model, a, 0xF0, 1), FLASH_OK);
  ck_assert_uint_eq(byte_at(a), 0x00);
}
END_TEST

START_TEST(test_program_ff_changes_nothing)
{
  const uint32_t a = 0x08020010u;
  ck_assert_int_eq(flash_model_program(&model, a, 0x12345A5Au, 4), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, a, 0xFFFFFFFFu, 4), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, a + 1, 0xFF, 1), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, a + 2, 0xFFFF, 2), FLASH_OK);
  const uint8_t want[4] = { 0x5A, 0x5A, 0x34, 0x12 };
  ck_assert_mem_eq(mem + (a - STM32_FLASH_BASE), want, sizeof(want));
}
END_TEST

START_TEST(test_program_cannot_set_bits)
{
  const uint32_t a = 0x08020020u;
  ck_assert_int_eq(flash_model_program(&model, a, 0x0F, 1), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, a, 0x3C, 1), FLASH_OK);
  ck_assert_uint_eq(byte_at(a), 0x0C);
  /* Only an erase brings bits back to 1. */
  ck_assert_int_eq(flash_model_erase_sector(&model, 5), FLASH_OK);
  ck_assert_uint_eq(byte_at(a), 0xFF);
}
END_TEST

START_TEST(test_program_little_endian)
{
  ck_assert_int_eq(flash_model_program(&model, 0x08020004u, 0x12345678u, 4), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, 0x0802000Au, 0xABCDu, 2), FLASH_OK);
  const uint8_t want[12] = { 0xFF, 0xFF, 0xFF, 0xFF, 0x78, 0x56, 0x34, 0x12,
                             0xFF, 0xFF, 0xCD, 0xAB };
  ck_assert_mem_eq(mem + 0x20000u, want, sizeof(want));
  ck_assert_uint_eq(byte_at(0x0802000Cu), 0xFF);
}
END_TEST

START_TEST(test_program_alignment)
{
  const uint32_t a = 0x08020000u;
  ck_assert_int_eq(flash_model_program(&model, a + 1, 0, 2), FLASH_ERR_ALIGN);
  ck_assert_int_eq(flash_model_program(&model, a + 3, 0, 2), FLASH_ERR_ALIGN);
  ck_assert_int_eq(flash_model_program(&model, a + 1, 0, 4), FLASH_ERR_ALIGN);
  ck_assert_int_eq(flash_model_program(&model, a + 2, 0, 4), FLASH_ERR_ALIGN);
  ck_assert_int_eq(flash_model_program(&model, a + 3, 0, 4), FLASH_ERR_ALIGN);
  for (uint32_t i = 0; i < 8; i++)
    ck_assert_uint_eq(byte_at(a + i), 0xFF);
  /* Aligned, the same accesses go through. */
  ck_assert_int_eq(flash_model_program(&model, a + 1, 0, 1), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, a + 2, 0, 2), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, a + 4, 0, 4), FLASH_OK);
  ck_assert_uint_eq(byte_at(a), 0xFF);
  for (uint32_t i = 1; i < 8; i++)
    ck_assert_uint_eq(byte_at(a + i), 0x00);
}
END_TEST

START_TEST(test_program_width)
{
  const uint32_t a = 0x08020000u;
  ck_assert_int_eq(flash_model_program(&model, a, 0, 0), FLASH_ERR_PARALLELISM);
  ck_assert_int_eq(flash_model_program(&model, a, 0, 3), FLASH_ERR_PARALLELISM);
  ck_assert_int_eq(flash_model_program(&model, a, 0, 8), FLASH_ERR_PARALLELISM);
  for (uint32_t i = 0; i < 8; i++)
    ck_assert_uint_eq(byte_at(a + i), 0xFF);
}
END_TEST

START_TEST(test_program_range)
{
  const uint32_t end = STM32_FLASH_END;
  ck_assert_int_eq(flash_model_program(&model, end - 1, 0x01, 1), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, end - 4, 0x0302, 2), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&model, end - 8, 0x07060504u, 4), FLASH_OK);
  const uint8_t want[8] = { 0x04, 0x05, 0x06, 0x07, 0x02, 0x03, 0xFF, 0x01 };
  ck_assert_mem_eq(mem + STM32_FLASH_SIZE - 8, want, sizeof(want));

  ck_assert_int_eq(flash_model_program(&model, end, 0, 1), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_program(&model, end, 0, 2), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_program(&model, end, 0, 4), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_program(&model, STM32_FLASH_BASE - 1, 0, 1), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_program(&model, STM32_FLASH_BASE - 4, 0, 4), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_program(&model, 0xFFFFFFFCu, 0, 4), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_program(&model, 0, 0, 4), FLASH_ERR_RANGE);
  ck_assert_uint_eq(mem[0], 0xFF);
}
END_TEST

START_TEST(test_read_range)
{
  uint8_t buf[8];
  const uint32_t end = STM32_FLASH_END;
  mem[STM32_FLASH_SIZE - 1] = 0x42;
  ck_assert_int_eq(flash_model_read(&model, end - 4, buf, 4), FLASH_OK);
  ck_assert_uint_eq(buf[3], 0x42);
  ck_assert_int_eq(flash_model_read(&model, end - 4, buf, 5), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_read(&model, end - 1, buf, 2), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_read(&model, end, buf, 1), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_read(&model, STM32_FLASH_BASE - 1, buf, 1), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_read(&model, 0xFFFFFFFFu, buf, 2), FLASH_ERR_RANGE);
  /* addr + len would wrap: must still be refused. */
  ck_assert_int_eq(flash_model_read(&model, STM32_FLASH_BASE, buf, SIZE_MAX), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_model_read(&model, end - 1, buf, SIZE_MAX), FLASH_ERR_RANGE);

  static uint8_t whole[STM32_FLASH_SIZE];
  ck_assert_int_eq(flash_model_read(&model, STM32_FLASH_BASE, whole, sizeof(whole)), FLASH_OK);
  ck_assert_uint_eq(whole[STM32_FLASH_SIZE - 1], 0x42);
  ck_assert_int_eq(flash_model_read(&model, STM32_FLASH_BASE + 1, whole, sizeof(whole)),
                   FLASH_ERR_RANGE);
}
END_TEST

/* Sectors 0-3 (the IAP's own 64 KiB) write protected, as the bootloader keeps itself. */
#define PROTECT_IAP_SECTORS 0x0Fu

static void protected_setup(void)
{
  memset(mem, 0x5A, sizeof(mem));
  flash_model_init(&model, mem, PROTECT_IAP_SECTORS);
  dev = flash_model_dev_init(&model_dev, &model, NULL, NULL);
}

START_TEST(test_protected_erase_refused)
{
  for (unsigned n = 0; n < 4; n++) {
    ck_assert_int_eq(flash_model_erase_sector(&model, n), FLASH_ERR_PROTECTED);
    ck_assert_int_eq(flash_erase_sector(dev, n), FLASH_ERR_PROTECTED);
    ck_assert_uint_eq(model.erase_count[n], 0);
  }
  for (uint32_t i = 0; i < 0x10000u; i++)
    ck_assert_uint_eq(mem[i], 0x5A);
  /* Sector 4 is not protected. */
  ck_assert_int_eq(flash_model_erase_sector(&model, 4), FLASH_OK);
  ck_assert_uint_eq(model.erase_count[4], 1);
  ck_assert(flash_model_sector_erased(&model, 4));
  ck_assert_uint_eq(byte_at(0x0800FFFFu), 0x5A);
}
END_TEST

START_TEST(test_protected_program_refused)
{
  for (unsigned n = 0; n < 4; n++) {
    uint32_t base = sector_map[n].base;
    uint32_t last = base + sector_map[n].size - 1;
    ck_assert_int_eq(flash_model_program(&model, base, 0, 1), FLASH_ERR_PROTECTED);
    ck_assert_int_eq(flash_model_program(&model, base + 2, 0, 2), FLASH_ERR_PROTECTED);
    ck_assert_int_eq(flash_model_program(&model, base + 4, 0, 4), FLASH_ERR_PROTECTED);
    ck_assert_int_eq(flash_model_program(&model, last, 0, 1), FLASH_ERR_PROTECTED);
    ck_assert_int_eq(flash_model_program(&model, last - 3, 0, 4), FLASH_ERR_PROTECTED);
  }
  const uint8_t zeros[8] = { 0 };
  ck_assert_int_eq(flash_program(dev, 0x08000000u, zeros, sizeof(zeros)), FLASH_ERR_PROTECTED);
  for (uint32_t i = 0; i < 0x10000u; i++)
    ck_assert_uint_eq(mem[i], 0x5A);
  /* The first byte of sector 4 is programmable. */
  ck_assert_int_eq(flash_model_program(&model, 0x08010000u, 0, 1), FLASH_OK);
  ck_assert_uint_eq(byte_at(0x08010000u), 0x00);
}
END_TEST

/* ---- the flash seam over the model ------------------------------------------------- */

/* Every start alignment 0..3 and length 0..11: the programmed bytes, and nothing beside. */
START_TEST(test_posix_program_unaligned)
{
  static const uint8_t data[12] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB,
                                    0xCD, 0xEF, 0x10, 0x32, 0x54, 0x76 };
  for (uint32_t start = 0; start < 4; start++) {
    for (size_t len = 0; len <= sizeof(data); len++) {
      ck_assert_int_eq(flash_erase_sector(dev, 5), FLASH_OK);
      uint32_t addr = 0x08020010u + start;
      ck_assert_int_eq(flash_program(dev, addr, data, len), FLASH_OK);
      for (uint32_t a = 0x08020000u; a < 0x08020030u; a++) {
        uint8_t want = a >= addr && a < addr + len ? data[a - addr] : 0xFF;
        ck_assert_msg(byte_at(a) == want,
                      "start %u len %zu: byte at 0x%08x is 0x%02x, want 0x%02x",
                      (unsigned)start, len, (unsigned)a, byte_at(a), want);
      }
      uint8_t back[sizeof(data)];
      ck_assert_int_eq(flash_read(dev, addr, back, len), FLASH_OK);
      ck_assert_mem_eq(back, data, len);
    }
  }
}
END_TEST

/* The seam programs in address order and stops at the first refused access: bytes before
 * it are programmed, the rest untouched. */
START_TEST(test_posix_program_stops_at_protected)
{
  memset(mem, 0xFF, sizeof(mem));
  flash_model_init(&model, mem, 1u << 4);
  const uint8_t data[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
  ck_assert_int_eq(flash_program(dev, 0x0800FFFDu, data, sizeof(data)), FLASH_ERR_PROTECTED);
  ck_assert_uint_eq(byte_at(0x0800FFFDu), 0x11);
  ck_assert_uint_eq(byte_at(0x0800FFFEu), 0x22);
  ck_assert_uint_eq(byte_at(0x0800FFFFu), 0x33);
  ck_assert_uint_eq(byte_at(0x08010000u), 0xFF);
  ck_assert_uint_eq(byte_at(0x08010001u), 0xFF);
  ck_assert_uint_eq(byte_at(0x08010002u), 0xFF);
}
END_TEST

/* A range across a sector boundary, over bytes already programmed: every byte keeps old AND
 * new, on both sides of the boundary (the seam programs a sector at a time). */
START_TEST(test_posix_program_across_sectors_keeps_old_and_new)
{
  uint8_t data[64];
  const uint32_t addr = 0x08040000u - 30;  /* sector 5 into sector 6 */
  for (size_t i = 0; i < sizeof(data); i++) {
    data[i] = (uint8_t)(i * 37u + 11u);
    mem[addr - STM32_FLASH_BASE + i] = (uint8_t)(0xF0u ^ i);
  }
  ck_assert_int_eq(flash_program(dev, addr, data, sizeof(data)), FLASH_OK);
  for (size_t i = 0; i < sizeof(data); i++)
    ck_assert_uint_eq(byte_at(addr + (uint32_t)i), data[i] & (uint8_t)(0xF0u ^ i));
  ck_assert_uint_eq(byte_at(addr - 1), 0xFF);
  ck_assert_uint_eq(byte_at(addr + (uint32_t)sizeof(data)), 0xFF);
}
END_TEST

START_TEST(test_posix_program_past_end)
{
  const uint8_t data[5] = { 0xA1, 0xA2, 0xA3, 0xA4, 0xA5 };
  ck_assert_int_eq(flash_program(dev, STM32_FLASH_END - 3, data, sizeof(data)), FLASH_ERR_RANGE);
  const uint8_t want[3] = { 0xA1, 0xA2, 0xA3 };
  ck_assert_mem_eq(mem + STM32_FLASH_SIZE - 3, want, sizeof(want));
  ck_assert_int_eq(flash_program(dev, STM32_FLASH_END, data, 1), FLASH_ERR_RANGE);
  ck_assert_int_eq(flash_program(dev, STM32_FLASH_BASE - 1, data, 1), FLASH_ERR_RANGE);
  ck_assert_uint_eq(mem[0], 0xFF);
}
END_TEST

/* Two devices over two chips: each reaches its own chip only (the handle, not a global,
 * decides where an operation goes). */
START_TEST(test_dev_reaches_its_own_chip)
{
  static uint8_t other_mem[STM32_FLASH_SIZE];
  struct flash_model other;
  struct flash_model_dev other_dev_model;
  const struct flash_dev *other_dev;
  const uint8_t data[4] = { 0x12, 0x34, 0x56, 0x78 };
  uint8_t buf[4] = { 0 };

  memset(other_mem, 0xFF, sizeof(other_mem));
  flash_model_init(&other, other_mem, 0);
  other_dev = flash_model_dev_init(&other_dev_model, &other, NULL, NULL);
  ck_assert_int_eq(flash_program(other_dev, 0x08020000u, data, sizeof(data)), FLASH_OK);
  ck_assert_int_eq(flash_erase_sector(other_dev, 6), FLASH_OK);
  ck_assert_uint_eq(other.erase_count[6], 1);
  ck_assert_uint_eq(model.erase_count[6], 0);
  ck_assert_uint_eq(byte_at(0x08020000u), 0xFF);
  ck_assert_int_eq(flash_read(other_dev, 0x08020000u, buf, sizeof(buf)), FLASH_OK);
  ck_assert_mem_eq(buf, data, sizeof(data));
  ck_assert_int_eq(flash_read(dev, 0x08020000u, buf, sizeof(buf)), FLASH_OK);
  ck_assert_mem_eq(buf, "\xff\xff\xff\xff", 4);
  ck_assert_int_eq(flash_sync(dev), FLASH_OK);   /* no backing store: nothing to do */
}
END_TEST

static int sync_calls;
static void *sync_ctx_seen;

static enum flash_result failing_sync(void *ctx)
{
  sync_calls++;
  sync_ctx_seen = ctx;
  return FLASH_ERR_IO;
}

START_TEST(test_posix_sync_calls_back)
{
  int marker = 0;
  ck_assert_int_eq(flash_sync(dev), FLASH_OK);
  dev = flash_model_dev_init(&model_dev, &model, failing_sync, &marker);
  sync_calls = 0;
  ck_assert_int_eq(flash_sync(dev), FLASH_ERR_IO);
  ck_assert_int_eq(sync_calls, 1);
  ck_assert_ptr_eq(sync_ctx_seen, &marker);
}
END_TEST

/* ---- the backing file ---------------------------------------------------------------- */

/* The directory is made and removed by unchecked fixtures, which run in the parent process,
 * so it is cleaned up even when a test fails in its forked child. */
static char tmp_dir[] = "/tmp/check_flash.XXXXXX";

static void file_dir_setup(void)
{
  ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void file_dir_teardown(void)
{
  DIR *d = opendir(tmp_dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(tmp_dir);
}

static void file_path(char *path, size_t size, const char *name)
{
  int n = snprintf(path, size, "%s/%s", tmp_dir, name);
  ck_assert(n > 0 && (size_t)n < size);
}

static off_t file_size(const char *path)
{
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return st.st_size;
}

static void write_file_of_size(const char *path, size_t size)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
  close(fd);
}

static void assert_contains(const char *text, const char *part)
{
  ck_assert_msg(strstr(text, part) != NULL, "\"%s\" does not contain \"%s\"", text, part);
}

START_TEST(test_file_created_erased)
{
  char path[PATH_MAX];
  char err[256] = "";
  struct flash_file f;
  file_path(path, sizeof(path), "created.bin");
  mode_t old_mask = umask(022);
  ck_assert_int_eq(flash_file_open(&f, path, PROTECT_IAP_SECTORS, err, sizeof(err)), 0);
  umask(old_mask);
  ck_assert_str_eq(err, "");

  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_size, 1048576);
  ck_assert_uint_eq(st.st_mode & 0777, 0644);
  for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++) {
    ck_assert(flash_model_sector_erased(&f.model, n));
    ck_assert_uint_eq(f.model.erase_count[n], 0);
  }
  ck_assert_uint_eq(f.model.protected_sectors, PROTECT_IAP_SECTORS);
  ck_assert_ptr_eq(f.model.mem, f.map);

  /* Erased on disk too, not only through the map. */
  static uint8_t disk[STM32_FLASH_SIZE];
  int fd = open(path, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pread(fd, disk, sizeof(disk), 0), (ssize_t)sizeof(disk));
  close(fd);
  for (size_t i = 0; i < sizeof(disk); i++)
    ck_assert_uint_eq(disk[i], 0xFF);
  flash_file_close(&f);
  ck_assert_int_eq(f.fd, -1);
  ck_assert_ptr_null(f.map);
}
END_TEST

START_TEST(test_file_persists_across_reopen)
{
  char path[PATH_MAX];
  char err[256] = "";
  struct flash_file f;
  file_path(path, sizeof(path), "persist.bin");
  ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(flash_model_program(&f.model, 0x08010000u, 0xDEADBEEFu, 4), FLASH_OK);
  ck_assert_int_eq(flash_model_erase_sector(&f.model, 11), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&f.model, 0x080FFFFFu, 0x7E, 1), FLASH_OK);
  ck_assert_int_eq(flash_file_sync(&f), FLASH_OK);
  flash_file_close(&f);

  /* The bytes are in the file at offset addr - 0x08000000 ... */
  uint8_t disk[4];
  int fd = open(path, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pread(fd, disk, sizeof(disk), 0x10000), (ssize_t)sizeof(disk));
  close(fd);
  const uint8_t want[4] = { 0xEF, 0xBE, 0xAD, 0xDE };
  ck_assert_mem_eq(disk, want, sizeof(want));

  /* ... and a reopen sees them, without filling the file again. */
  ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), 0);
  uint8_t back[4];
  ck_assert_int_eq(flash_model_read(&f.model, 0x08010000u, back, sizeof(back)), FLASH_OK);
  ck_assert_mem_eq(back, want, sizeof(want));
  ck_assert_int_eq(flash_model_read(&f.model, 0x080FFFFCu, back, sizeof(back)), FLASH_OK);
  const uint8_t want_end[4] = { 0xFF, 0xFF, 0xFF, 0x7E };
  ck_assert_mem_eq(back, want_end, sizeof(want_end));
  flash_file_close(&f);
  ck_assert_int_eq(file_size(path), 1048576);
}
END_TEST

static enum flash_result sync_flash_file(void *ctx)
{
  return flash_file_sync(ctx);
}

START_TEST(test_file_through_seam)
{
  char path[PATH_MAX];
  char err[256] = "";
  struct flash_file f;
  file_path(path, sizeof(path), "seam.bin");
  ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), 0);
  struct flash_model_dev fdev;
  const struct flash_dev *d = flash_model_dev_init(&fdev, &f.model, sync_flash_file, &f);
  const uint8_t data[7] = { 1, 2, 3, 4, 5, 6, 7 };
  ck_assert_int_eq(flash_program(d, 0x08020003u, data, sizeof(data)), FLASH_OK);
  ck_assert_int_eq(flash_sync(d), FLASH_OK);
  flash_file_close(&f);

  uint8_t disk[9];
  int fd = open(path, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pread(fd, disk, sizeof(disk), 0x20002), (ssize_t)sizeof(disk));
  close(fd);
  const uint8_t want[9] = { 0xFF, 1, 2, 3, 4, 5, 6, 7, 0xFF };
  ck_assert_mem_eq(disk, want, sizeof(want));
}
END_TEST

START_TEST(test_file_wrong_size_refused)
{
  static const size_t sizes[] = { 1000, 1048575, 1048577 };
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    char path[PATH_MAX];
    char name[32];
    char err[512] = "";
    char size_text[32];
    struct flash_file f;
    snprintf(name, sizeof(name), "size-%zu.bin", sizes[i]);
    file_path(path, sizeof(path), name);
    write_file_of_size(path, sizes[i]);
    ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), -1);
    snprintf(size_text, sizeof(size_text), "is %zu bytes", sizes[i]);
    assert_contains(err, path);
    assert_contains(err, size_text);
    assert_contains(err, "exactly 1048576 bytes");
    assert_contains(err, "remove it");
    ck_assert_int_eq(f.fd, -1);
    ck_assert_ptr_null(f.map);
    /* Refused means left alone: not truncated, not extended. */
    ck_assert_int_eq(file_size(path), (off_t)sizes[i]);
  }
}
END_TEST

START_TEST(test_file_locked_refused)
{
  char path[PATH_MAX];
  char err[512] = "";
  struct flash_file first, second;
  file_path(path, sizeof(path), "locked.bin");
  ck_assert_int_eq(flash_file_open(&first, path, 0, err, sizeof(err)), 0);
  /* flock() locks belong to the open file description, so this process is refused too. */
  ck_assert_int_eq(flash_file_open(&second, path, 0, err, sizeof(err)), -1);
  assert_contains(err, path);
  assert_contains(err, "in use by another iapd");
  ck_assert_int_eq(second.fd, -1);
  ck_assert_ptr_null(second.map);
  /* The first one is unharmed and, once closed, releases the file. */
  ck_assert_int_eq(flash_model_program(&first.model, 0x08020000u, 0x00, 1), FLASH_OK);
  flash_file_close(&first);
  err[0] = '\0';
  ck_assert_int_eq(flash_file_open(&second, path, 0, err, sizeof(err)), 0);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(second.map[0x20000], 0x00);
  flash_file_close(&second);
}
END_TEST

START_TEST(test_file_sync_ok)
{
  char path[PATH_MAX];
  char err[256] = "";
  struct flash_file f;
  file_path(path, sizeof(path), "sync.bin");
  ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(flash_file_sync(&f), FLASH_OK);
  ck_assert_int_eq(flash_model_program(&f.model, 0x08020000u, 0x12, 1), FLASH_OK);
  ck_assert_int_eq(flash_file_sync(&f), FLASH_OK);
  flash_file_close(&f);
  ck_assert_int_eq(flash_file_sync(&f), FLASH_ERR_IO);
}
END_TEST

START_TEST(test_file_lost)
{
  /* The file deleted, moved or replaced under a running iapd: what is programmed no longer
   * reaches the path the next iapd opens. Every sync from then on fails, and says why. */
  static const struct {
    const char *how;
    const char *why;
  } cases[] = {
    { "unlink", "was deleted" },
    { "rename-away", "was moved away" },
    { "replace", "was replaced by another file" },
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char path[PATH_MAX], other[PATH_MAX], want[PATH_MAX + 200];
    char err[256] = "";
    struct flash_file f;
    file_path(path, sizeof(path), "lost.bin");
    file_path(other, sizeof(other), "other.bin");
    unlink(path);
    ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), 0);
    ck_assert_ptr_null(flash_file_error(&f));
    ck_assert_int_eq(flash_file_sync(&f), FLASH_OK);
    if (strcmp(cases[i].how, "unlink") == 0) {
      ck_assert_int_eq(unlink(path), 0);
    } else if (strcmp(cases[i].how, "rename-away") == 0) {
      ck_assert_int_eq(rename(path, other), 0);
    } else {
      FILE *o = fopen(other, "w");
      ck_assert_ptr_nonnull(o);
      fclose(o);
      ck_assert_int_eq(rename(other, path), 0);
    }
    ck_assert_int_eq(flash_file_sync(&f), FLASH_ERR_IO);
    snprintf(want, sizeof(want), "flash file %s %s while iapd runs: what is programmed from "
             "now on is lost; uploads are refused until iapd is restarted", path,
             cases[i].why);
    ck_assert_str_eq(flash_file_error(&f), want);
    /* for good, even with a file at the path again */
    FILE *o = fopen(path, "w");
    ck_assert_ptr_nonnull(o);
    fclose(o);
    ck_assert_int_eq(flash_file_check(&f), FLASH_ERR_IO);
    ck_assert_int_eq(flash_file_sync(&f), FLASH_ERR_IO);
    ck_assert_str_eq(flash_file_error(&f), want);
    flash_file_close(&f);
    unlink(path);
    unlink(other);
  }
}
END_TEST

START_TEST(test_file_unopenable_named)
{
  char path[PATH_MAX];
  char err[512] = "";
  struct flash_file f;
  file_path(path, sizeof(path), "no-such-dir/flash.bin");
  ck_assert_int_eq(flash_file_open(&f, path, 0, err, sizeof(err)), -1);
  assert_contains(err, path);
  assert_contains(err, "No such file or directory");
  ck_assert_int_eq(f.fd, -1);
  ck_assert_ptr_null(f.map);
}
END_TEST

static Suite *flash_suite(void)
{
  Suite *s = suite_create("flash");

  TCase *tc = tcase_create("sector map");
  tcase_add_loop_test(tc, test_sector_base_and_size, 0, STM32_FLASH_SECTOR_COUNT);
  tcase_add_loop_test(tc, test_sector_of_boundaries, 0, STM32_FLASH_SECTOR_COUNT);
  tcase_add_test(tc, test_sector_map_outside_flash);
  suite_add_tcase(s, tc);

  tc = tcase_create("model");
  tcase_add_checked_fixture(tc, model_setup, model_teardown);
  tcase_add_test(tc, test_erase_sets_sector_to_ff);
  tcase_add_test(tc, test_erase_counts_per_sector);
  tcase_add_test(tc, test_erase_out_of_range);
  tcase_add_test(tc, test_program_stores_old_and_new);
  tcase_add_test(tc, test_program_ff_changes_nothing);
  tcase_add_test(tc, test_program_cannot_set_bits);
  tcase_add_test(tc, test_program_little_endian);
  tcase_add_test(tc, test_program_alignment);
  tcase_add_test(tc, test_program_width);
  tcase_add_test(tc, test_program_range);
  tcase_add_test(tc, test_read_range);
  suite_add_tcase(s, tc);

  tc = tcase_create("protection");
  tcase_add_checked_fixture(tc, protected_setup, model_teardown);
  tcase_add_test(tc, test_protected_erase_refused);
  tcase_add_test(tc, test_protected_program_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("seam");
  tcase_add_checked_fixture(tc, model_setup, model_teardown);
  tcase_add_test(tc, test_posix_program_unaligned);
  tcase_add_test(tc, test_posix_program_stops_at_protected);
  tcase_add_test(tc, test_posix_program_past_end);
  tcase_add_test(tc, test_posix_program_across_sectors_keeps_old_and_new);
  tcase_add_test(tc, test_dev_reaches_its_own_chip);
  tcase_add_test(tc, test_posix_sync_calls_back);
  suite_add_tcase(s, tc);

  tc = tcase_create("file");
  tcase_add_unchecked_fixture(tc, file_dir_setup, file_dir_teardown);
  tcase_add_test(tc, test_file_created_erased);
  tcase_add_test(tc, test_file_persists_across_reopen);
  tcase_add_test(tc, test_file_through_seam);
  tcase_add_test(tc, test_file_wrong_size_refused);
  tcase_add_test(tc, test_file_locked_refused);
  tcase_add_test(tc, test_file_sync_ok);
  tcase_add_test(tc, test_file_lost);
  tcase_add_test(tc, test_file_unopenable_named);
  suite_add_tcase(s, tc);

  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(flash_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
