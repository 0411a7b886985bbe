/*
 * The commit record and the trailer (src/image_record.c), and the boot policies
 * (src/boot.c boot_go, src/iap_slots.c) over the emulated chip: exact record bytes, every torn
 * prefix of a record invalid, bounds, and what each policy boots or refuses, and why.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "crc32.h"
#include "iap_slots.h"
#include "iap_writer.h"
#include "image_record.h"
#include "image_tool.h"
#include "signing_key.h"
#include "testlib.h"

static struct tl_flash flash;
static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };
static char key_dir[4096];

static void setup(void)
{
  const char *tests = getenv("TESTS_DIR");
  snprintf(key_dir, sizeof(key_dir), "%s/../fixtures/keys", tests ? tests : "../tests");
  tl_flash_open(&flash);
}

static void teardown(void)
{
  tl_flash_close(&flash);
}

static struct iap_record sample(void)
{
  struct iap_record r = { .image_addr = TL_USER_BASE, .image_len = 40972, .trailer_len = 0,
                          .seq = 7 };
  for (unsigned i = 0; i < sizeof(r.sha256); i++)
    r.sha256[i] = (uint8_t)(0xA0 + i);
  return r;
}

START_TEST(record_bytes_exact)
{
  struct iap_record r = sample(), back;
  uint8_t b[IAP_RECORD_BYTES];
  static const uint8_t head[24] = {
    'I', 'A', 'P', 'R', 1, 0, 64, 0, 0x00, 0x00, 0x01, 0x08,   /* magic, version, size, addr */
    0x0C, 0xA0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0,                  /* 40972, no trailer, seq 7 */
  };
  iap_record_encode(&r, b);
  ck_assert_mem_eq(b, head, sizeof(head));
  ck_assert_mem_eq(b + 24, r.sha256, 32);
  ck_assert_uint_eq(image_le32(b + 56), crc32_update(0, b, 56));
  ck_assert_mem_eq(b + 60, "CMMT", 4);
  ck_assert_int_eq(iap_record_decode(b, TL_USER_BASE, TL_USER_CAPACITY, &back, NULL, 0),
                   IAP_RECORD_VALID);
  ck_assert_mem_eq(&back, &r, sizeof(r));
}
END_TEST

/* The writer programs words 0..14 in one call, then word 15 (commit) in another. A cut leaves
 * a prefix of the call's words, one word with only some of its 1->0 bits, the rest erased. */
START_TEST(record_every_torn_prefix_invalid)
{
  struct iap_record r = sample(), out;
  uint8_t full[IAP_RECORD_BYTES], torn[IAP_RECORD_BYTES];
  uint32_t rng = 99;
  unsigned tried = 0;
  iap_record_encode(&r, full);
  for (unsigned w = 0; w < 16; w++) {          /* the word being programmed when cut */
    uint32_t want = image_le32(full + 4 * w), zeros = ~want;  /* bits the word clears */
    for (unsigned trial = 0; trial < 64; trial++) {
      /* a proper subset of the bits that should go to 0 (the first trial: none) */
      uint32_t applied = trial == 0 ? 0 : tl_rand(&rng) & zeros;
      if (applied == zeros)
        applied &= applied - 1;
      memset(torn, 0xFF, sizeof(torn));
      memcpy(torn, full, 4 * w);
      tl_put_le32(torn + 4 * w, 0xFFFFFFFFu & ~applied);
      ck_assert_int_ne(iap_record_decode(torn, TL_USER_BASE, TL_USER_CAPACITY, &out, NULL, 0),
                       IAP_RECORD_VALID);
      tried++;
    }
  }
  ck_assert_uint_eq(tried, 16 * 64);
  /* The complete record is valid: the check is not simply "never valid". */
  ck_assert_int_eq(iap_record_decode(full, TL_USER_BASE, TL_USER_CAPACITY, &out, NULL, 0),
                   IAP_RECORD_VALID);
}
END_TEST

static enum iap_record_state decode_with(struct iap_record r, uint32_t base, uint32_t cap,
                                         char *why)
{
  uint8_t b[IAP_RECORD_BYTES];
  struct iap_record out;
  iap_record_encode(&r, b);
  return iap_record_decode(b, base, cap, &out, why, 96);
}

START_TEST(record_bounds_refused)
{
  char why[96];
  struct iap_record r = sample();
  ck_assert_int_eq(decode_with(r, TL_USER_BASE + 0x10000, TL_USER_CAPACITY, why),
                   IAP_RECORD_INVALID);
  ck_assert_str_eq(why, "record invalid: image address is not the slot's");
  r.image_len = TL_USER_CAPACITY + 1;
  ck_assert_int_eq(decode_with(r, TL_USER_BASE, TL_USER_CAPACITY, why), IAP_RECORD_INVALID);
  ck_assert_str_eq(why, "record invalid: lengths outside the slot");
  r.image_len = TL_USER_CAPACITY - 100, r.trailer_len = 128;
  ck_assert_int_eq(decode_with(r, TL_USER_BASE, TL_USER_CAPACITY, why), IAP_RECORD_INVALID);
  r.image_len = 100, r.trailer_len = 0xFFFFFFF0u;  /* would wrap a sum */
  ck_assert_int_eq(decode_with(r, TL_USER_BASE, TL_USER_CAPACITY, why), IAP_RECORD_INVALID);
  r.trailer_len = 11;  /* shorter than a footer */
  ck_assert_int_eq(decode_with(r, TL_USER_BASE, TL_USER_CAPACITY, why), IAP_RECORD_INVALID);
  r.trailer_len = 0, r.image_len = 7;
  ck_assert_int_eq(decode_with(r, TL_USER_BASE, TL_USER_CAPACITY, why), IAP_RECORD_INVALID);
  r.image_len = 8;
  ck_assert_int_eq(decode_with(r, TL_USER_BASE, TL_USER_CAPACITY, why), IAP_RECORD_VALID);

  uint8_t b[IAP_RECORD_BYTES];
  struct iap_record out;
  memset(b, 0xFF, sizeof(b));
  ck_assert_int_eq(iap_record_decode(b, TL_USER_BASE, TL_USER_CAPACITY, &out, why, 96),
                   IAP_RECORD_NONE);
  iap_record_encode(&r, b);
  b[0] ^= 1;
  ck_assert_int_eq(iap_record_decode(b, TL_USER_BASE, TL_USER_CAPACITY, &out, why, 96),
                   IAP_RECORD_INVALID);
  ck_assert_str_eq(why, "record invalid: wrong magic");
  iap_record_encode(&r, b);
  b[30] ^= 0x10;  /* one bit of the hash: bit rot in the record */
  ck_assert_int_eq(iap_record_decode(b, TL_USER_BASE, TL_USER_CAPACITY, &out, why, 96),
                   IAP_RECORD_INVALID);
  ck_assert_str_eq(why, "record invalid: CRC-32 mismatch (torn or corrupted)");
}
END_TEST

START_TEST(trailer_parse_and_truncations)
{
  uint8_t sha[32], id[8], sig[64], t[IAP_TRAILER_MAX];
  struct iap_trailer tr;
  char why[96];
  uint32_t il, tl;
  memset(sha, 1, 32), memset(id, 2, 8), memset(sig, 3, 64);
  size_t n = iap_trailer_encode(1000, sha, id, sig, t);
  ck_assert_uint_eq(n, 4 + 32 + 4 + 8 + 4 + 64 + 12);
  ck_assert(iap_trailer_footer(t + n - 12, 1000 + (uint32_t)n, &il, &tl));
  ck_assert_uint_eq(il, 1000);
  ck_assert_uint_eq(tl, n);
  ck_assert(!iap_trailer_footer(t + n - 12, 1001 + (uint32_t)n, &il, &tl));
  ck_assert(iap_trailer_parse(t, n, 1000, &tr, why, sizeof(why)));
  ck_assert(tr.has_sha256 && tr.has_key_id && tr.has_signature);
  ck_assert_mem_eq(tr.signature, sig, 64);
  /* Every shorter tail of it is refused: no footer where the footer should be. */
  for (size_t cut = 1; cut < n; cut++)
    ck_assert(!iap_trailer_parse(t + cut, n - cut, 1000, &tr, why, sizeof(why)));
  /* A TLV whose length runs past the TLV area. */
  t[2] = 200;
  ck_assert(!iap_trailer_parse(t, n, 1000, &tr, why, sizeof(why)));
  ck_assert_str_eq(why, "signature trailer malformed: TLV runs past the trailer");
  t[2] = 31;
  ck_assert(!iap_trailer_parse(t, n, 1000, &tr, why, sizeof(why)));
  /* A duplicate: the key id TLV rewritten as a second SHA-256 of the right length fails. */
  t[2] = 32;
  t[36] = IAP_TLV_SHA256;
  ck_assert(!iap_trailer_parse(t, n, 1000, &tr, why, sizeof(why)));
}
END_TEST

/* --- policies over the emulated chip ----------------------------------------------------- */

static struct iap_pubkey test_key;

static void load_key(const char *name, struct iap_pubkey *k)
{
  char path[4200], why[600];
  snprintf(path, sizeof(path), "%s/%s", key_dir, name);
  ck_assert_msg(signing_key_load(path, k, why, sizeof(why)), "%s", why);
}

static void policy(struct iap_policy *p, enum iap_slots_mode mode, enum iap_verify v)
{
  memset(p, 0, sizeof(*p));
  iap_layout_init(&p->layout, mode, &user_area);
  p->verify = v;
  load_key("test-signing.pub", &test_key);
  p->key = &test_key;
}

/* Uploads img through a writer under p; the status and err. */
static enum iap_status upload(const struct iap_policy *p, const uint8_t *img, size_t n,
                              struct iap_error *err)
{
  struct iap_writer w;
  struct iap_result res;
  iap_writer_init_policy(&w, p, flash.dev);
  enum iap_status st = iap_writer_begin(&w, "TEST", "x", 0, err);
  for (size_t off = 0; st == IAP_OK && off < n; off += 512)
    st = iap_writer_write(&w, img + off, n - off < 512 ? n - off : 512, err);
  return st == IAP_OK ? iap_writer_finish(&w, &res, err) : st;
}

/* img signed with fixtures/keys/KEY: a malloc'd file, its length in *len. */
static uint8_t *signed_image(const uint8_t *img, size_t n, const char *key, size_t *len)
{
  char in[] = "/tmp/check_record.XXXXXX", out[64], keypath[4200];
  int fd = mkstemp(in);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, img, n), (ssize_t)n);
  close(fd);
  snprintf(out, sizeof(out), "%s.signed", in);
  snprintf(keypath, sizeof(keypath), "%s/%s", key_dir, key);
  FILE *devnull = fopen("/dev/null", "w");
  ck_assert_int_eq(image_tool_sign(keypath, in, out, devnull, stderr), 0);
  fclose(devnull);
  FILE *f = fopen(out, "rb");
  uint8_t *buf = malloc(n + IAP_TRAILER_MAX);
  *len = fread(buf, 1, n + IAP_TRAILER_MAX, f);
  fclose(f);
  unlink(in);
  unlink(out);
  return buf;
}

START_TEST(integrity_refuses_bit_rot_and_torn_vector)
{
  struct iap_policy p;
  struct iap_error err;
  struct boot_decision d;
  uint8_t *img = tl_app(40972, 3);
  policy(&p, IAP_SLOTS_SINGLE, IAP_VERIFY_INTEGRITY);
  ck_assert_int_eq(upload(&p, img, 40972, &err), IAP_OK);
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_str_eq(d.detail, "image #1, 40972 bytes at 0x08010000, SHA-256 verified");

  /* One byte of the body changes in flash (bit rot): refused, and why. */
  flash.mem[0x10000 + 20000] ^= 0x01;
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_INTEGRITY);
  ck_assert_str_eq(d.detail, "SHA-256 mismatch at 0x08010000, 40972 bytes");
  ck_assert_str_eq(boot_reason_str(d.reason), "image integrity");
  /* vectors (AN3376) boots it all the same */
  p.verify = IAP_VERIFY_VECTORS;
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  p.verify = IAP_VERIFY_INTEGRITY;
  flash.mem[0x10000 + 20000] ^= 0x01;

  /* A torn reset vector: 0x080f01c9 where 0x080101c9 belongs (bits only go 1 -> 0 in
   * flash, so the torn word is forced into the file, as a torn program leaves it). */
  tl_put_le32(flash.mem + 0x10004, 0x080F01C9u);
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_str_eq(d.detail, "SHA-256 mismatch at 0x08010000, 40972 bytes");
  free(img);
}
END_TEST

START_TEST(integrity_needs_a_record)
{
  struct iap_policy p;
  struct boot_decision d;
  uint8_t *img = tl_app(5000, 4);
  /* An image put there with a debugger: vector table, no record. */
  ck_assert_int_eq(flash_erase_sector(flash.dev, 4), FLASH_OK);
  ck_assert_int_eq(flash_program(flash.dev, TL_USER_BASE, img, 5000), FLASH_OK);
  policy(&p, IAP_SLOTS_SINGLE, IAP_VERIFY_INTEGRITY);
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_INTEGRITY);
  ck_assert_str_eq(d.detail, "no valid commit record for the image at 0x08010000 (no record "
                   "(erased))");
  p.verify = IAP_VERIFY_VECTORS;
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  /* Erased flash is still "no application", under every policy. */
  tl_flash_close(&flash);
  tl_flash_open(&flash);
  p.verify = IAP_VERIFY_SIGNATURE;
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.reason, BOOT_REASON_NO_APP);
  free(img);
}
END_TEST

START_TEST(signature_policy)
{
  struct iap_policy p;
  struct iap_error err;
  struct boot_decision d;
  size_t n;
  uint8_t *img = tl_app(30000, 5);
  policy(&p, IAP_SLOTS_SINGLE, IAP_VERIFY_SIGNATURE);

  /* unsigned: refused at the end, no record, the SP slot zeroed */
  ck_assert_int_eq(upload(&p, img, 30000, &err), IAP_ERR_INVALID_IMAGE);
  ck_assert_str_eq(err.message, "image not signed: --boot-verify signature takes only images "
                   "signed with iapd-image sign");
  ck_assert(tl_flash_is_erased(&flash, TL_USER_END - 128, 128));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0);
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);

  /* a foreign key */
  uint8_t *foreign = signed_image(img, 30000, "test-foreign.pem", &n);
  ck_assert_int_eq(upload(&p, foreign, n, &err), IAP_ERR_INVALID_IMAGE);
  ck_assert_str_eq(err.message, "image signed with another key: key id 9590aed5fe87d8f5, the "
                   "board's is dc23ed7ed4224812");
  ck_assert(tl_flash_is_erased(&flash, TL_USER_END - 128, 128));

  /* tampered after signing: the trailer's hash differs */
  uint8_t *good = signed_image(img, 30000, "test-signing.pem", &n);
  ck_assert_uint_eq(n, 30000 + 128);
  good[1000] ^= 0x80;
  ck_assert_int_eq(upload(&p, good, n, &err), IAP_ERR_INVALID_IMAGE);
  ck_assert_str_eq(err.message, "image corrupted: its SHA-256 is not the one its signature "
                   "trailer holds");
  good[1000] ^= 0x80;
  /* the signature itself changed */
  good[30000 + 60] ^= 0x01;
  ck_assert_int_eq(upload(&p, good, n, &err), IAP_ERR_INVALID_IMAGE);
  ck_assert_str_eq(err.message, "image signature does not verify with the board's key (key id "
                   "dc23ed7ed4224812): tampered with, or not this image's");
  good[30000 + 60] ^= 0x01;

  /* signed with the board's key: stored with its trailer, boots */
  ck_assert_int_eq(upload(&p, good, n, &err), IAP_OK);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), good, n);
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_str_eq(d.detail, "image #1, 30000 bytes at 0x08010000, SHA-256 verified, "
                   "signature verified");
  /* the trailer's signature rots in flash: the hash still matches, the signature does not */
  flash.mem[0x10000 + 30000 + 60] ^= 0x01;
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_IAP_MODE);
  ck_assert_int_eq(d.reason, BOOT_REASON_SIGNATURE);
  ck_assert_str_eq(d.detail, "ECDSA P-256 signature does not verify (key id "
                   "dc23ed7ed4224812)");
  /* integrity boots it: the hash matches */
  p.verify = IAP_VERIFY_INTEGRITY;
  boot_go(false, &p, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  free(img);
  free(foreign);
  free(good);
}
END_TEST

START_TEST(dual_upload_goes_to_staging)
{
  struct iap_policy p;
  struct iap_error err;
  struct boot_decision d;
  uint8_t *old = tl_app(100000, 6), *img = tl_app(200000, 7);
  policy(&p, IAP_SLOTS_DUAL, IAP_VERIFY_INTEGRITY);
  ck_assert_uint_eq(p.layout.primary.base, 0x08010000u);
  ck_assert_uint_eq(p.layout.primary.end, 0x08080000u);
  ck_assert_uint_eq(p.layout.staging.base, 0x08080000u);
  ck_assert_uint_eq(p.layout.staging.end, 0x08100000u);
  ck_assert_uint_eq(iap_layout_max_image(&p.layout), 458624u);

  ck_assert_int_eq(upload(&p, old, 100000, &err), IAP_OK);
  boot_go(false, &p, flash.dev, &d);   /* installs it */
  ck_assert(d.installed);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), old, 100000);
  uint8_t *primary = tl_flash_snapshot(&flash);

  ck_assert_int_eq(upload(&p, img, 200000, &err), IAP_OK);
  /* the running image's slot is untouched by the upload */
  ck_assert_mem_eq(flash.mem + 0x10000, primary + 0x10000, 0x70000);
  ck_assert_mem_eq(tl_flash_at(&flash, 0x08080000u), img, 200000);
  boot_go(true, &p, flash.dev, &d);    /* Key held: no install */
  ck_assert(!d.installed);
  ck_assert_int_eq(d.staging.content, IAP_SLOT_VERIFIED);
  ck_assert_uint_eq(d.staging.record.seq, 2);
  boot_go(false, &p, flash.dev, &d);
  ck_assert(d.installed);
  ck_assert_uint_eq(d.install.sectors_copied, 4);  /* sectors 4, 5, 6 and the record's 7 */
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, 200000);
  ck_assert_uint_eq(d.primary.record.seq, 2);
  boot_go(false, &p, flash.dev, &d);   /* nothing more to do */
  ck_assert(!d.installed);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  /* too large for the primary slot */
  uint8_t *big = tl_app(458625, 8);
  ck_assert_int_eq(upload(&p, big, 458625, &err), IAP_ERR_TOO_LARGE);
  ck_assert_str_eq(err.message, "image too large: the primary slot 0x08010000-0x0807ff7f holds "
                   "458624 bytes (--slots dual)");
  free(big);
  free(primary);
  free(old);
  free(img);
}
END_TEST

static Suite *record_suite(void)
{
  Suite *s = suite_create("record");
  TCase *tc = tcase_create("record");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, record_bytes_exact);
  tcase_add_test(tc, record_every_torn_prefix_invalid);
  tcase_add_test(tc, record_bounds_refused);
  tcase_add_test(tc, trailer_parse_and_truncations);
  tcase_add_test(tc, integrity_refuses_bit_rot_and_torn_vector);
  tcase_add_test(tc, integrity_needs_a_record);
  tcase_add_test(tc, signature_policy);
  tcase_add_test(tc, dual_upload_goes_to_staging);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(record_suite());
}
