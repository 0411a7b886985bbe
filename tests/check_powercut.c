/*
 * The power-cut sweep in unit form. A fault-injecting flash device wraps the emulated chip:
 * flash operations are counted from power-on (one sector erase or one program call is one
 * op); at op k the power goes: "clean" does nothing of op k, "torn" does part of it (a program
 * call: a random prefix of its words, one word with only some of its 1->0 bits, nothing
 * after; an erase: a random part of the sector erased) and every later operation fails. Then
 * the board powers on again and the real boot flow (boot_go) runs on the chip as the cut
 * left it. For every k of an upload (single and dual, TFTP-sized and HTTP-sized writes) and
 * of the boot-time copy (dual), the outcome must be one of: IAP mode with nothing bootable,
 * the complete new image runs, the complete old image runs (and in dual mode, before the new
 * image's record is committed, the old one). In swap mode (user flash at 0x08020000) the
 * boot-time swap and its revert are cut at every op as well, and the old image must be kept
 * whole: in staging as the fallback once the new one runs, in primary after a revert.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "iap_slots.h"
#include "iap_swap.h"
#include "iap_writer.h"
#include "testlib.h"

struct cut_dev {
  const struct flash_dev *inner;
  struct tl_flash *chip;
  long ops;            /* operations so far */
  long cut_at;         /* -1: never */
  bool torn;
  bool off;            /* the power is gone */
  uint32_t rng;
  struct flash_dev dev;
};

static enum flash_result cut_erase(void *ctx, unsigned sector)
{
  struct cut_dev *c = ctx;
  if (c->off)
    return FLASH_ERR_IO;
  if (c->ops++ == c->cut_at) {
    c->off = true;
    if (c->torn) {
      uint32_t size = stm32_flash_sector_size(sector);
      uint32_t from = tl_rand(&c->rng) % size, len = tl_rand(&c->rng) % (size - from + 1);
      memset(c->chip->mem + (stm32_flash_sector_base(sector) - STM32_FLASH_BASE) + from, 0xFF,
             len);
    }
    return FLASH_ERR_IO;
  }
  return flash_erase_sector(c->inner, sector);
}

static enum flash_result cut_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  struct cut_dev *c = ctx;
  const uint8_t *d = data;
  if (c->off)
    return FLASH_ERR_IO;
  if (c->ops++ == c->cut_at) {
    c->off = true;
    if (c->torn) {
      size_t words = (len + 3) / 4, done = tl_rand(&c->rng) % words;
      if (done > 0)
        flash_program(c->inner, addr, d, done * 4 < len ? done * 4 : len);
      /* the word being programmed: only some of the bits it clears */
      uint8_t *p = c->chip->mem + (addr - STM32_FLASH_BASE) + done * 4;
      for (size_t i = done * 4; i < len && i < done * 4 + 4; i++, p++) {
        uint8_t clears = (uint8_t)(*p & ~d[i]);
        *p &= (uint8_t)~(clears & tl_rand(&c->rng));
      }
    }
    return FLASH_ERR_IO;
  }
  return flash_program(c->inner, addr, data, len);
}

static enum flash_result cut_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
  struct cut_dev *c = ctx;
  return c->off ? FLASH_ERR_IO : flash_read(c->inner, addr, buf, len);
}

static enum flash_result cut_sync(void *ctx)
{
  struct cut_dev *c = ctx;
  return c->off ? FLASH_ERR_IO : FLASH_OK;
}

static const struct flash_dev_ops cut_ops = { cut_erase, cut_program, cut_read, cut_sync };

static void cut_init(struct cut_dev *c, struct tl_flash *chip, long cut_at, bool torn,
                     uint32_t seed)
{
  memset(c, 0, sizeof(*c));
  c->inner = chip->dev;
  c->chip = chip;
  c->cut_at = cut_at;
  c->torn = torn;
  c->rng = seed;
  c->dev.ops = &cut_ops;
  c->dev.ctx = c;
}

static struct tl_flash chip;
static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };
/* Swap mode's: a 128 KiB bootloader area (iap_swap.h). */
#define SWAP_BASE 0x08020000u
static const struct image_area swap_user = { SWAP_BASE, TL_USER_END };

enum outcome { NONE, OLD, NEW, OTHER, OUTCOMES };
static const char *const outcome_name[] = { "nothing bootable", "old image", "new image",
                                            "FAILURE" };

/* Streams img into a writer on dev in chunks of `chunk` bytes; false when a step failed. */
static bool upload(const struct iap_policy *p, const struct flash_dev *dev, const uint8_t *img,
                   size_t n, size_t chunk)
{
  struct iap_writer w;
  struct iap_error err;
  struct iap_result res;
  iap_writer_init_policy(&w, p, dev);
  if (iap_writer_begin(&w, "TEST", "x", 0, &err) != IAP_OK)
    return false;
  for (size_t off = 0; off < n; off += chunk)
    if (iap_writer_write(&w, img + off, n - off < chunk ? n - off : chunk, &err) != IAP_OK)
      return false;
  return iap_writer_finish(&w, &res, &err) == IAP_OK;
}

/* Power on after a cut: the boot flow on the chip, then what runs. */
static enum outcome power_on(const struct iap_policy *p, const uint8_t *old, size_t old_n,
                             const uint8_t *img, size_t n)
{
  struct boot_decision d;
  boot_go(false, p, chip.dev, &d);
  if (d.mode != BOOT_APPLICATION)  /* IAP mode: truly nothing bootable, or a failure */
    return d.reason != BOOT_REASON_KEY && d.primary.content != IAP_SLOT_VERIFIED ? NONE : OTHER;
  const uint8_t *run = tl_flash_at(&chip, p->layout.primary.base);
  if (d.primary.record.image_len == n && memcmp(run, img, n) == 0)
    return NEW;
  if (old != NULL && d.primary.record.image_len == old_n && memcmp(run, old, old_n) == 0)
    return OLD;
  return OTHER;
}

struct sweep {
  long n;                    /* interruption points */
  unsigned count[OUTCOMES];
};

static void report(const char *what, const struct sweep *s)
{
  printf("powercut: %-34s %4ld cuts: %4u nothing bootable, %4u old, %4u new, %u failures\n",
         what, s->n, s->count[NONE], s->count[OLD], s->count[NEW], s->count[OTHER]);
}

/* The upload sweep: the old image installed, then an upload of the new one cut at every op. */
static void sweep_upload(enum iap_slots_mode mode, bool torn, size_t chunk, const char *what)
{
  struct iap_policy p = { .verify = IAP_VERIFY_INTEGRITY };
  struct sweep s = { 0 };
  struct boot_decision d;
  size_t old_n = 70001, n = 150003;
  bool swap = mode == IAP_SLOTS_SWAP;  /* its own user flash, 0x08020000 */
  uint32_t base = swap ? SWAP_BASE : TL_USER_BASE;
  uint8_t *old = tl_image(old_n, TL_SP, base + 0x1C9u, 41);
  uint8_t *img = tl_image(n, TL_SP, base + 0x1C9u, 42);

  iap_layout_init(&p.layout, mode, swap ? &swap_user : &user_area);
  ck_assert(upload(&p, chip.dev, old, old_n, chunk));
  boot_go(false, &p, chip.dev, &d);  /* dual: installs the old image */
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  uint8_t *before = tl_flash_snapshot(&chip);

  /* How many ops the whole upload takes, and the op whose end commits it. */
  struct cut_dev c;
  cut_init(&c, &chip, -1, false, 0);
  ck_assert(upload(&p, &c.dev, img, n, chunk));
  long total = c.ops;
  for (long k = 0; k <= total; k++) {
    memcpy(chip.mem, before, STM32_FLASH_SIZE);
    cut_init(&c, &chip, k, torn, 1000u + (uint32_t)k);
    bool ok = upload(&p, &c.dev, img, n, chunk);
    ck_assert(ok == (k == total));  /* every cut before the end is noticed */
    enum outcome o = power_on(&p, old, old_n, img, n);
    s.count[o]++;
    ck_assert_msg(o != OTHER, "%s: cut at op %ld of %ld: %s", what, k, total,
                  outcome_name[o]);
    /* The new image never runs before the last op, the commit word, completed; dual keeps
     * the old one bootable until then. */
    if (k < total - 1 || (k == total - 1 && !torn))
      ck_assert_msg(o != NEW, "%s: new image runs after a cut at op %ld of %ld", what, k,
                    total);
    if (mode != IAP_SLOTS_SINGLE && k < total)
      ck_assert_msg(o == OLD, "%s: cut at op %ld of %ld: %s, not the old image", what, k,
                    total, outcome_name[o]);
    if (k == total)
      ck_assert_int_eq(o, NEW);
  }
  s.n = total + 1;
  report(what, &s);
  ck_assert_uint_gt(s.count[NEW], 0);
  if (mode == IAP_SLOTS_SINGLE)
    ck_assert_uint_gt(s.count[NONE], 0);
  free(before);
  free(old);
  free(img);
}

START_TEST(single_tftp_torn) { sweep_upload(IAP_SLOTS_SINGLE, true, 512, "single tftp torn"); }
END_TEST
START_TEST(single_tftp_clean) { sweep_upload(IAP_SLOTS_SINGLE, false, 512, "single tftp clean"); }
END_TEST
START_TEST(single_http_torn) { sweep_upload(IAP_SLOTS_SINGLE, true, 1459, "single http torn"); }
END_TEST
START_TEST(single_http_clean) { sweep_upload(IAP_SLOTS_SINGLE, false, 1459, "single http clean"); }
END_TEST
START_TEST(dual_tftp_torn) { sweep_upload(IAP_SLOTS_DUAL, true, 512, "dual tftp torn"); }
END_TEST
START_TEST(dual_tftp_clean) { sweep_upload(IAP_SLOTS_DUAL, false, 512, "dual tftp clean"); }
END_TEST
START_TEST(dual_http_torn) { sweep_upload(IAP_SLOTS_DUAL, true, 1459, "dual http torn"); }
END_TEST
START_TEST(dual_http_clean) { sweep_upload(IAP_SLOTS_DUAL, false, 1459, "dual http clean"); }
END_TEST
START_TEST(swap_tftp_torn) { sweep_upload(IAP_SLOTS_SWAP, true, 512, "swap tftp torn"); }
END_TEST
START_TEST(swap_http_clean) { sweep_upload(IAP_SLOTS_SWAP, false, 1459, "swap http clean"); }
END_TEST

/* The boot-time sweep: from the flash `start` (a staged image), the power-on's operations
 * cut one by one, k = 0 .. total-1, each cut followed, when `twice` and k % 3 == 0, by a
 * second cut during the resumed work, then by a clean power-on that must run `want`; and,
 * when keep_seq is not 0, staging must hold the old image under that sequence number. */
struct boot_sweep {
  const struct iap_policy *p;
  const uint8_t *start;
  long total;                /* operations of the uncut power-on */
  bool torn, twice;
  uint32_t seed;
  const uint8_t *old, *img;
  size_t old_n, n;
  enum outcome want;
  uint32_t keep_seq;
  const char *what;
};

static void assert_staging_holds(const struct iap_policy *p, const uint8_t *img, size_t n,
                                 uint32_t seq, const char *what, long k);

static void sweep_boot(const struct boot_sweep *b)
{
  struct sweep s = { 0 };
  struct boot_decision d;
  for (long k = 0; k < b->total; k++) {
    struct cut_dev c;
    memcpy(chip.mem, b->start, STM32_FLASH_SIZE);
    cut_init(&c, &chip, k, b->torn, b->seed + (uint32_t)k);
    boot_go(false, b->p, &c.dev, &d);
    ck_assert(c.off);
    if (b->twice && k % 3 == 0) {  /* a second cut, during the resumed work */
      cut_init(&c, &chip, (k * 7) % 5, b->torn, b->seed + 1000u + (uint32_t)k);
      boot_go(false, b->p, &c.dev, &d);
    }
    enum outcome o = power_on(b->p, b->old, b->old_n, b->img, b->n);
    s.count[o]++;
    ck_assert_msg(o == b->want, "%s: cut at op %ld of %ld: %s", b->what, k, b->total,
                  outcome_name[o]);
    if (b->keep_seq != 0)
      assert_staging_holds(b->p, b->old, b->old_n, b->keep_seq, b->what, k);
  }
  s.n = b->total;
  report(b->what, &s);
}

/* The copy sweep (dual): the new image committed in staging, the boot-time copy cut at every
 * op, then (every third cut) cut again during the resumed copy; the next power-on must run
 * the complete new image. */
static void sweep_copy(bool torn, const char *what)
{
  struct iap_policy p = { .verify = IAP_VERIFY_INTEGRITY };
  struct boot_decision d;
  size_t old_n = 300001, n = 250003;
  uint8_t *old = tl_app(old_n, 43), *img = tl_app(n, 44);

  iap_layout_init(&p.layout, IAP_SLOTS_DUAL, &user_area);
  ck_assert(upload(&p, chip.dev, old, old_n, 512));
  boot_go(false, &p, chip.dev, &d);
  ck_assert(upload(&p, chip.dev, img, n, 512));
  uint8_t *staged = tl_flash_snapshot(&chip);

  struct cut_dev c;
  cut_init(&c, &chip, -1, false, 0);
  boot_go(false, &p, &c.dev, &d);
  ck_assert(d.installed);
  /* 4 sectors: per sector one erase, the program calls of its bytes, one progress word;
   * the record's sector adds the record's body and commit word. */
  ck_assert_uint_eq(d.install.sectors_copied, 4);
  sweep_boot(&(struct boot_sweep){ .p = &p, .start = staged, .total = c.ops, .torn = torn,
                                   .twice = true, .seed = 2000u, .old = old, .old_n = old_n,
                                   .img = img, .n = n, .want = NEW, .what = what });
  free(staged);
  free(old);
  free(img);
}

START_TEST(dual_copy_torn) { sweep_copy(true, "dual boot-time copy torn"); }
END_TEST
START_TEST(dual_copy_clean) { sweep_copy(false, "dual boot-time copy clean"); }
END_TEST

/* --- swap mode (iap_swap.h): 128 KiB bootloader area, primary 5-7, staging 8-10, scratch 11 */


static uint8_t *swap_app(size_t size, uint32_t seed)
{
  return tl_image(size, TL_SP, SWAP_BASE + 0x1C9u, seed);
}

static void swap_policy(struct iap_policy *p)
{
  memset(p, 0, sizeof(*p));
  p->verify = IAP_VERIFY_INTEGRITY;
  iap_layout_init(&p->layout, IAP_SLOTS_SWAP, &swap_user);
  ck_assert_int_eq(p->layout.mode, IAP_SLOTS_SWAP);
}

/* An upgrade under way in swap mode: old uploaded in chunk-byte writes and installed at a
 * reset, then img uploaded into staging; the next reset swaps them. */
static void stage_upgrade(const struct iap_policy *p, const uint8_t *old, size_t old_n,
                          const uint8_t *img, size_t n, size_t chunk)
{
  struct boot_decision d;
  ck_assert(upload(p, chip.dev, old, old_n, chunk));
  boot_go(false, p, chip.dev, &d);
  ck_assert(d.installed);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert(upload(p, chip.dev, img, n, chunk));
}

/* Runs one reset, uncut, counting its flash operations: a sweep's total. */
static long counted_boot(const struct iap_policy *p, struct boot_decision *d)
{
  struct cut_dev c;
  cut_init(&c, &chip, -1, false, 0);
  boot_go(false, p, &c.dev, d);
  return c.ops;
}

/* The staging slot holds exactly img (n bytes) under a verified record of sequence seq. */
static void assert_staging_holds(const struct iap_policy *p, const uint8_t *img, size_t n,
                                 uint32_t seq, const char *what, long k)
{
  struct iap_slot_status st;
  iap_slot_inspect(chip.dev, &p->layout.staging, &p->layout.primary, IAP_VERIFY_INTEGRITY,
                   NULL, &st);
  ck_assert_msg(st.content == IAP_SLOT_VERIFIED && st.record.seq == seq
                && st.record.image_len == n
                && memcmp(tl_flash_at(&chip, p->layout.staging.base), img, n) == 0,
                "%s: cut at op %ld: staging does not hold image #%u (%s)", what, (long)k,
                (unsigned)seq, st.detail);
}

START_TEST(swap_layout)
{
  struct iap_layout l;
  char why[200];
  const struct image_area an3376 = { TL_USER_BASE, TL_USER_END };

  ck_assert(iap_swap_layout(&l, &swap_user, why, sizeof(why)));
  ck_assert_uint_eq(l.primary.base, 0x08020000u);
  ck_assert_uint_eq(l.primary.end, 0x08080000u - 128u);
  ck_assert_uint_eq(l.staging.base, 0x08080000u);
  ck_assert_uint_eq(l.staging.end, 0x080E0000u - 128u);
  ck_assert_uint_eq(l.scratch.base, 0x080E0000u);
  ck_assert_uint_eq(l.scratch.end, 0x08100000u);
  iap_layout_init(&l, IAP_SLOTS_SWAP, &swap_user);
  ck_assert_uint_eq(iap_layout_max_image(&l), 392960u);
  ck_assert(!iap_swap_layout(&l, &an3376, why, sizeof(why)));
  ck_assert_str_eq(why, "slots swap pairs sectors of one size: sector 4 at 0x08010000 is "
                   "64 KiB and sector 5 is 128 KiB; start the user flash at 0x08020000 (a "
                   "128 KiB bootloader area)");
  iap_layout_init(&l, IAP_SLOTS_SWAP, &an3376);
  ck_assert_int_eq(l.mode, IAP_SLOTS_SINGLE);
  const struct image_area two = { 0x080C0000u, TL_USER_END };
  ck_assert(!iap_swap_layout(&l, &two, why, sizeof(why)));
  ck_assert_str_eq(why, "slots swap needs three sectors of user flash or more (two slots and "
                   "a scratch); user flash 0x080c0000 has 2");
}
END_TEST

/* The upgrade: old installed, new uploaded; the boot-time swap cut at every op, then (every
 * third cut) again during the resumed swap. The next power-on must run the complete new image
 * and staging must hold the complete old one, verified: it was never lost. */
static void sweep_swap(bool torn, const char *what)
{
  struct iap_policy p;
  struct boot_decision d;
  size_t old_n = 264145, n = 20003;  /* old: into the last unit, whose copy is partial */
  uint8_t *old = swap_app(old_n, 45), *img = swap_app(n, 46);

  swap_policy(&p);
  stage_upgrade(&p, old, old_n, img, n, 512);
  uint8_t *staged = tl_flash_snapshot(&chip);
  long total = counted_boot(&p, &d);
  ck_assert(d.installed && !d.swap.revert && !d.swap.resumed);
  ck_assert_uint_eq(d.swap.steps_done, 10);  /* 3 units x 3 steps, and the records */
  ck_assert_int_eq(power_on(&p, old, old_n, img, n), NEW);
  assert_staging_holds(&p, old, old_n, 1, what, -1);
  sweep_boot(&(struct boot_sweep){ .p = &p, .start = staged, .total = total, .torn = torn,
                                   .twice = true, .seed = 4000u, .old = old, .old_n = old_n,
                                   .img = img, .n = n, .want = NEW, .keep_seq = 1,
                                   .what = what });
  free(staged);
  free(old);
  free(img);
}

START_TEST(swap_torn) { sweep_swap(true, "swap boot-time swap torn"); }
END_TEST
START_TEST(swap_clean) { sweep_swap(false, "swap boot-time swap clean"); }
END_TEST

/* The revert: a swapped-in image that no longer verifies in primary (one byte changed) goes
 * back to staging, unrecorded, and the old image runs again; cut at every op of the revert,
 * the next power-on must run the old image. */
static void sweep_revert(bool torn, const char *what)
{
  struct iap_policy p;
  struct boot_decision d;
  size_t old_n = 20003, n = 264145;
  uint8_t *old = swap_app(old_n, 47), *img = swap_app(n, 48);

  swap_policy(&p);
  stage_upgrade(&p, old, old_n, img, n, 1459);
  boot_go(false, &p, chip.dev, &d);
  ck_assert_int_eq(power_on(&p, old, old_n, img, n), NEW);
  chip.mem[p.layout.primary.base - STM32_FLASH_BASE + 263000u] ^= 0x01;  /* bit rot */
  uint8_t *rotten = tl_flash_snapshot(&chip);
  long total = counted_boot(&p, &d);
  ck_assert(d.installed && d.swap.revert);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_int_eq(d.staging.content, IAP_SLOT_UNRECORDED);  /* never installed again */
  boot_go(false, &p, chip.dev, &d);
  ck_assert(!d.installed);
  sweep_boot(&(struct boot_sweep){ .p = &p, .start = rotten, .total = total, .torn = torn,
                                   .seed = 6000u, .old = old, .old_n = old_n, .img = img,
                                   .n = n, .want = OLD, .what = what });
  free(rotten);
  free(old);
  free(img);
}

START_TEST(revert_torn) { sweep_revert(true, "swap revert torn"); }
END_TEST
START_TEST(revert_clean) { sweep_revert(false, "swap revert clean"); }
END_TEST

/* A swap cut short is finished even with Key held (its halves are in three places); a new
 * one does not start with Key held. */
START_TEST(swap_key_held)
{
  struct iap_policy p;
  struct boot_decision d;
  size_t old_n = 140001, n = 260001;
  uint8_t *old = swap_app(old_n, 49), *img = swap_app(n, 50);

  swap_policy(&p);
  ck_assert(upload(&p, chip.dev, old, old_n, 512));
  boot_go(true, &p, chip.dev, &d);
  ck_assert(!d.installed);
  ck_assert_int_eq(d.reason, BOOT_REASON_KEY);
  boot_go(false, &p, chip.dev, &d);
  ck_assert(d.installed);
  ck_assert(upload(&p, chip.dev, img, n, 512));
  struct cut_dev c;
  cut_init(&c, &chip, 150, false, 0);  /* unit 0, step 1: primary 0 partly written */
  boot_go(false, &p, &c.dev, &d);
  ck_assert(c.off);
  boot_go(true, &p, chip.dev, &d);
  ck_assert(d.installed && d.swap.resumed);
  ck_assert_uint_gt(d.swap.steps_skipped, 0);
  ck_assert_int_eq(d.swap.fr, FLASH_OK);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.primary.content, IAP_SLOT_VERIFIED);
  ck_assert_uint_eq(d.primary.record.seq, 2);
  ck_assert_int_eq(power_on(&p, old, old_n, img, n), NEW);
  free(old);
  free(img);
}
END_TEST

/* A swap stopped by a flash error (the board then stays in IAP mode) and an upload in IAP
 * mode: the upload abandons the swap, and the next reset swaps the upload in. Without that,
 * the reset would resume the old swap over the upload's bytes. */
START_TEST(swap_abandoned_by_upload)
{
  struct iap_policy p;
  struct boot_decision d;
  size_t old_n = 300001, n = 250003, c_n = 180001;
  uint8_t *old = swap_app(old_n, 55), *img = swap_app(n, 56), *c_img = swap_app(c_n, 57);

  swap_policy(&p);
  stage_upgrade(&p, old, old_n, img, n, 512);
  uint8_t *staged = tl_flash_snapshot(&chip);
  long total = counted_boot(&p, &d);
  struct cut_dev c;
  const long at[] = { total / 4, total / 2, 3 * total / 4, total - 30, total - 3 };
  for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
    memcpy(chip.mem, staged, STM32_FLASH_SIZE);
    cut_init(&c, &chip, at[i], false, 0);
    boot_go(false, &p, &c.dev, &d);
    ck_assert_int_ne(d.swap.fr, FLASH_OK);
    ck_assert_msg(iap_swap_unfinished(chip.dev, &p.layout), "op %ld of %ld", at[i], total);
    ck_assert(upload(&p, chip.dev, c_img, c_n, 1459));
    ck_assert(!iap_swap_unfinished(chip.dev, &p.layout));
    ck_assert_msg(power_on(&p, NULL, 0, c_img, c_n) == NEW, "flash error at op %ld of %ld: "
                  "the upload after it does not run", at[i], total);
  }
  free(staged);
  free(old);
  free(img);
  free(c_img);
}
END_TEST

/* A cell that will not program (one bit of one byte stays 1): the read-back catches it, the
 * swap stops with FLASH_ERR_VERIFY, and nothing unverified boots. */
static uint32_t weak_addr;

static enum flash_result weak_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  const struct flash_dev *inner = ctx;
  enum flash_result fr = flash_program(inner, addr, data, len);
  if (fr == FLASH_OK && weak_addr >= addr && weak_addr < addr + len)
    chip.mem[weak_addr - STM32_FLASH_BASE] |= 0x01;
  return fr;
}

static enum flash_result weak_erase(void *ctx, unsigned sector)
{
  return flash_erase_sector((const struct flash_dev *)ctx, sector);
}

static enum flash_result weak_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
  return flash_read((const struct flash_dev *)ctx, addr, buf, len);
}

static enum flash_result weak_sync(void *ctx)
{
  return flash_sync((const struct flash_dev *)ctx);
}

START_TEST(swap_weak_cell)
{
  static const struct flash_dev_ops weak_ops = { weak_erase, weak_program, weak_read,
                                                 weak_sync };
  struct iap_policy p;
  struct boot_decision d;
  size_t old_n = 100001, n = 120001;
  uint8_t *old = swap_app(old_n, 58), *img = swap_app(n, 59);

  swap_policy(&p);
  stage_upgrade(&p, old, old_n, img, n, 512);
  /* A byte of the new image in primary whose bit 0 must be programmed to 0. */
  size_t at = 5000;
  while (img[at] & 0x01)
    at++;
  weak_addr = p.layout.primary.base + (uint32_t)at;
  struct flash_dev weak = { &weak_ops, (void *)chip.dev };
  boot_go(false, &p, &weak, &d);
  ck_assert_int_eq(d.swap.fr, FLASH_ERR_VERIFY);
  ck_assert_str_eq(flash_result_str(d.swap.fr), "read back differs from what was programmed");
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_ne(d.primary.content, IAP_SLOT_VERIFIED);
  free(old);
  free(img);
}
END_TEST

/* An old image whose bytes at the end of its first 128 KiB look like a swap journal naming
 * the next upload (a valid record copy and the first journal mark): while that sector passes
 * through the scratch, a cut must not resume at the journal's step. Swept at every op. */
START_TEST(swap_journal_lookalike)
{
  struct iap_policy p;
  struct boot_decision d;
  size_t old_n = 140001, n = 30001;
  uint8_t *old = swap_app(old_n, 60), *img = swap_app(n, 61);

  swap_policy(&p);
  struct iap_record fake = { .image_addr = p.layout.staging.base, .image_len = 4096,
                             .seq = 2 };  /* the next upload's sequence number */
  uint8_t *tail = old + 0x20000 - IAP_SWAP_JOURNAL;
  memset(tail, 0xFF, IAP_SWAP_JOURNAL);
  iap_record_encode(&fake, tail);
  /* The journal's first mark: the last unit's step 0 (3 units: step 6), forward swap. */
  tl_put_le32(tail + 128, iap_progress_word(2, 0x100u + 6u));
  stage_upgrade(&p, old, old_n, img, n, 512);
  uint8_t *staged = tl_flash_snapshot(&chip);
  long total = counted_boot(&p, &d);
  ck_assert_int_eq(power_on(&p, old, old_n, img, n), NEW);
  sweep_boot(&(struct boot_sweep){ .p = &p, .start = staged, .total = total, .torn = true,
                                   .seed = 7000u, .old = old, .old_n = old_n, .img = img,
                                   .n = n, .want = NEW, .keep_seq = 1,
                                   .what = "swap, a journal look-alike in the old image" });
  free(staged);
  free(old);
  free(img);
}
END_TEST

/* A third upload replaces the fallback: staging then holds the second image. */
START_TEST(swap_three_upgrades)
{
  struct iap_policy p;
  struct boot_decision d;
  uint8_t *a = swap_app(100001, 51), *b = swap_app(392960, 52), *c = swap_app(9999, 53);

  swap_policy(&p);
  stage_upgrade(&p, a, 100001, b, 392960, 512);  /* b: the largest image */
  boot_go(false, &p, chip.dev, &d);
  ck_assert_int_eq(power_on(&p, a, 100001, b, 392960), NEW);
  assert_staging_holds(&p, a, 100001, 1, "three upgrades", -1);
  ck_assert(upload(&p, chip.dev, c, 9999, 512));
  boot_go(false, &p, chip.dev, &d);
  ck_assert_int_eq(power_on(&p, b, 392960, c, 9999), NEW);
  assert_staging_holds(&p, b, 392960, 2, "three upgrades", -1);
  uint8_t *big = swap_app(392961, 54);  /* one byte over: refused, c still runs */
  ck_assert(!upload(&p, chip.dev, big, 392961, 512));
  ck_assert_int_eq(power_on(&p, b, 392960, c, 9999), NEW);
  free(big);
  free(a);
  free(b);
  free(c);
}
END_TEST

static void setup(void)
{
  tl_flash_open(&chip);
}

static void teardown(void)
{
  tl_flash_close(&chip);
}

static Suite *powercut_suite(void)
{
  Suite *s = suite_create("powercut");
  TCase *tc = tcase_create("sweep");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, single_tftp_torn);
  tcase_add_test(tc, single_tftp_clean);
  tcase_add_test(tc, single_http_torn);
  tcase_add_test(tc, single_http_clean);
  tcase_add_test(tc, dual_tftp_torn);
  tcase_add_test(tc, dual_tftp_clean);
  tcase_add_test(tc, dual_http_torn);
  tcase_add_test(tc, dual_http_clean);
  tcase_add_test(tc, dual_copy_torn);
  tcase_add_test(tc, dual_copy_clean);
  tcase_add_test(tc, swap_tftp_torn);
  tcase_add_test(tc, swap_http_clean);
  tcase_add_test(tc, swap_layout);
  tcase_add_test(tc, swap_torn);
  tcase_add_test(tc, swap_clean);
  tcase_add_test(tc, revert_torn);
  tcase_add_test(tc, revert_clean);
  tcase_add_test(tc, swap_key_held);
  tcase_add_test(tc, swap_three_upgrades);
  tcase_add_test(tc, swap_abandoned_by_upload);
  tcase_add_test(tc, swap_weak_cell);
  tcase_add_test(tc, swap_journal_lookalike);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(powercut_suite());
}
