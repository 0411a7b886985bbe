/*
 * Where images live and what makes one bootable: the slot layout (--slots single|dual), the
 * boot policy (--boot-verify vectors|integrity|signature), a slot's inspection (its commit
 * record, the SHA-256 of its image, its signature), and dual mode's install: the boot-time
 * copy of a verified staging image into the primary slot, resumable at any flash operation.
 *
 * Every slot keeps its last IAP_SLOT_META_BYTES for metadata: the commit record
 * (image_record.h) at its start and, in the staging slot, the copy progress words after it.
 *
 * single: one slot, the whole user flash (AN3376's layout); uploads erase the running image.
 * dual:   the primary slot starts at the user flash (where applications are linked and run)
 *         and the staging slot takes the upper sectors. The split maximises the smaller of
 *         the two: from 0x08010000, primary = sectors 4-7 (0x08010000-0x0807ffff, 448 KiB)
 *         and staging = sectors 8-11 (0x08080000-0x080fffff, 512 KiB); the largest image is
 *         458752 - 128 = 458624 bytes. Uploads go to staging only.
 * swap:   two slots of equal sectors and a scratch sector, from 0x08020000; the install
 *         swaps the images and keeps the old one as the fallback (iap_swap.h).
 *
 * THE INSTALL (dual, at reset): the staging image is copied when it verifies (record, hash,
 * vectors, and the signature under `signature`) and the primary slot does not already hold a
 * verified image with the same record (sequence, length, hash). Primary sectors are copied
 * in order; each one is erased, programmed from staging, read back, and then marked done by
 * programming its progress word in staging's metadata: word k (k = sector - first primary
 * sector) at staging meta + 64 + 4k takes the value iap_progress_word(seq, k), which is never
 * 0xFFFFFFFF and, being matched exactly, cannot be produced by a torn program. The primary
 * record is written (body, read back, commit word) as the last sector's step, after all the
 * image's sectors are done. A power cut anywhere leaves the staging image and its record
 * untouched, so the next reset resumes at the first sector not marked done; when every word
 * says done but the primary slot does not verify (a cut between the record and the last
 * mark cannot cause this; bit rot later can), the copy restarts from the first sector
 * without marks. Progress words belong to one staging image: its upload erased them with
 * its record.
 */
#ifndef IAPD_IAP_SLOTS_H
#define IAPD_IAP_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"
#include "iap_crypto.h"
#include "iap_opts.h"
#include "image.h"
#include "image_record.h"

#define IAP_SLOT_META_BYTES   128u
#define IAP_PROGRESS_OFFSET   64u   /* progress words after the record, one per sector */

enum iap_slots_mode { IAP_SLOTS_SINGLE, IAP_SLOTS_DUAL, IAP_SLOTS_SWAP };
enum iap_verify { IAP_VERIFY_VECTORS, IAP_VERIFY_INTEGRITY, IAP_VERIFY_SIGNATURE };

struct iap_layout {
  enum iap_slots_mode mode;
  struct image_area user;     /* the whole user flash */
  struct image_area primary;  /* where applications run */
  struct image_area staging;  /* where uploads go; single: the primary slot */
  struct image_area scratch;  /* swap only (iap_swap.h): the sector images pass through */
};

/* The layout's mode as the code branches on it: with IAP_CONFIG_FIXED a two-slot layout is
 * always IAP_SLOTS, a constant, so the other layout's code is compiled out. */
static inline enum iap_slots_mode iap_layout_mode(const struct iap_layout *l)
{
  if (!IAP_WITH_DUAL_SLOTS || l->mode == IAP_SLOTS_SINGLE)
    return IAP_SLOTS_SINGLE;
  return IAP_CONFIG_FIXED ? (enum iap_slots_mode)IAP_SLOTS : l->mode;
}

/* What a bootloader enforces: the layout, the policy, and the key for `signature`. */
struct iap_policy {
  struct iap_layout layout;
  enum iap_verify verify;
  const struct iap_pubkey *key;   /* NULL unless verify is IAP_VERIFY_SIGNATURE */
};

/* Lays the slots over the user flash (sector aligned, up to the end of the main flash).
 * swap (iap_swap.h) where the user flash's sectors do not pair up falls back to single;
 * iap_swap_layout() says why. */
void iap_layout_init(struct iap_layout *l, enum iap_slots_mode mode,
                     const struct image_area *user);
/* Bytes a slot takes for an image and its trailer: the slot less its metadata. */
uint32_t iap_slot_capacity(const struct image_area *slot);
uint32_t iap_slot_meta_addr(const struct image_area *slot);
/* The largest file an upload may be: what both the staging and the primary slot hold. */
uint32_t iap_layout_max_image(const struct iap_layout *l);

const char *iap_slots_str(enum iap_slots_mode mode);
const char *iap_verify_str(enum iap_verify verify);

enum iap_slot_content {
  IAP_SLOT_EMPTY,       /* erased at its start, no record */
  IAP_SLOT_UNRECORDED,  /* bytes at its start, no valid record (interrupted, or by debugger) */
  IAP_SLOT_INVALID,     /* a record, but the image does not verify */
  IAP_SLOT_VERIFIED,    /* a record whose image verifies (at the level asked for) */
};

struct iap_slot_status {
  enum iap_slot_content content;
  bool record_valid;          /* record holds a committed record */
  bool signature_failed;      /* INVALID because of the signature (not the hash) */
  bool read_error;            /* the flash could not be read */
  struct iap_record record;
  char detail[160];           /* why, in words, as logged */
};

const char *iap_slot_content_str(enum iap_slot_content c);

/* Inspects a slot: its record, the SHA-256 of its image, the image's vector table against
 * run (where it will execute), and with IAP_VERIFY_SIGNATURE its trailer's signature by
 * key. IAP_VERIFY_VECTORS is taken as INTEGRITY here. */
void iap_slot_inspect(const struct flash_dev *f, const struct image_area *slot,
                      const struct image_area *run, enum iap_verify level,
                      const struct iap_pubkey *key, struct iap_slot_status *st);

/* SHA-256 of len bytes of flash at addr, read in chunks. */
enum flash_result iap_flash_sha256(const struct flash_dev *f, uint32_t addr, uint32_t len,
                                   uint8_t out[IAP_SHA256_BYTES]);

/* Programs a record at meta_addr: the body, read back, then the commit word, read back. */
enum flash_result iap_record_write(const struct flash_dev *f, uint32_t meta_addr,
                                   const struct iap_record *r);

/* Programs len bytes and reads them back equal (FLASH_ERR_VERIFY when they differ). */
enum flash_result iap_program_checked(const struct flash_dev *f, uint32_t addr,
                                      const uint8_t *data, uint32_t len);

/* Copies len bytes of flash from `from` into the erased range at `to`, each chunk read back;
 * chunks that are all 0xFF are left as the erase left them. */
enum flash_result iap_flash_copy(const struct flash_dev *f, uint32_t from, uint32_t to,
                                 uint32_t len);

/* The progress word that marks primary sector k done for the staging image of sequence seq. */
uint32_t iap_progress_word(uint32_t seq, unsigned k);

struct iap_install_result {
  bool restarted;            /* every sector was marked done yet primary did not verify */
  unsigned sectors_copied;   /* sectors erased and programmed this time */
  unsigned sectors_skipped;  /* sectors already marked done (resumed) */
  enum flash_result fr;      /* FLASH_OK, or the error that stopped it */
};

/* Copies the verified staging image described by rec into the primary slot (see above). */
void iap_install(const struct flash_dev *f, const struct iap_layout *l,
                 const struct iap_record *rec, bool restart, struct iap_install_result *out);

/* True when every progress word of the copy of rec says done. */
bool iap_install_all_done(const struct flash_dev *f, const struct iap_layout *l,
                          const struct iap_record *rec);

#endif
