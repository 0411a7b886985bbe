/* The flash writer (see iap_writer.h for what it promises). */
#include "iap_writer.h"

#include <stdarg.h>
#include <string.h>

#include "crc32.h"
#include "flash.h"
#include "iap_format.h"
#include "iap_opts.h"
#include "iap_swap.h"
#include "log.h"
#include "image_record.h"
#include "stm32f407.h"

#define PROGRESS_UNKNOWN_STEP (64u * 1024u)  /* log every 64 KiB when the size is not known */
#define VERIFY_CHUNK 256u

static void fail(struct iap_error *err, enum iap_status status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void fail(struct iap_error *err, enum iap_status status, const char *fmt, ...)
{
  va_list ap;
  err->status = status;
  va_start(ap, fmt);
  iap_vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

static uint32_t capacity(const struct iap_writer *w)
{
  return iap_layout_max_image(&w->policy.layout);
}

uint32_t iap_writer_capacity(const struct iap_writer *w)
{
  return capacity(w);
}

void iap_writer_init_policy(struct iap_writer *w, const struct iap_policy *policy,
                            const struct flash_dev *flash)
{
  memset(w, 0, sizeof(*w));
  w->policy = *policy;
  w->area = policy->layout.primary;
  w->slot = policy->layout.staging;
  w->flash = flash;
}

void iap_writer_init(struct iap_writer *w, const struct image_area *area,
                     const struct flash_dev *flash)
{
  struct iap_policy p = { .verify = IAP_VERIFY_INTEGRITY };
  iap_layout_init(&p.layout, IAP_SLOTS_SINGLE, area);
  iap_writer_init_policy(w, &p, flash);
}

/* dual or swap: uploads go to the staging slot. */
static bool dual(const struct iap_writer *w)
{
  return iap_layout_mode(&w->policy.layout) != IAP_SLOTS_SINGLE;
}

/* "the user flash 0x08010000-0x080fffff holds N bytes", or the dual layout's limit. */
static void too_large(struct iap_writer *w, struct iap_error *err, uint32_t size)
{
  char n[32] = "";
  if (size)
    iap_snprintf(n, sizeof(n), " %u bytes,", (unsigned)size);
  if (dual(w))
    fail(err, IAP_ERR_TOO_LARGE, "image too large:%s the primary slot 0x%08x-0x%08x holds %u "
         "bytes (--slots %s)", n, (unsigned)w->area.base,
         (unsigned)(w->area.base + capacity(w) - 1),
         (unsigned)capacity(w), iap_slots_str(w->policy.layout.mode));
  else
    fail(err, IAP_ERR_TOO_LARGE, "image too large:%s the user flash 0x%08x-0x%08x holds %u "
         "bytes", n, (unsigned)w->area.base, (unsigned)(w->area.base + capacity(w) - 1),
         (unsigned)capacity(w));
}

static void log_flash_state(const struct iap_writer *w)
{
  if (dual(w))
    log_info("flash", "the running image's slot is untouched: it still boots");
  else if (w->erase_started)
    log_warn("flash", "no application in flash now: the board stays in IAP mode at reset");
  else
    log_info("flash", "flash unchanged");
}

/* The sequence number of the next record: one more than any committed record. */
static uint32_t next_seq(const struct iap_writer *w)
{
  const struct image_area *slots[2] = { &w->policy.layout.primary, &w->policy.layout.staging };
  uint32_t seq = 0;
  for (unsigned i = 0; i < 2; i++) {
    uint8_t bytes[IAP_RECORD_BYTES];
    struct iap_record r;
    if (flash_read(w->flash, iap_slot_meta_addr(slots[i]), bytes, sizeof(bytes)) == FLASH_OK
        && iap_record_decode(bytes, slots[i]->base, iap_slot_capacity(slots[i]), &r, NULL,
                             0) == IAP_RECORD_VALID
        && r.seq > seq)
      seq = r.seq;
  }
  return seq + 1;
}

bool iap_writer_busy(const struct iap_writer *w)
{
  return w->active;
}

/* Ends the upload after an error; what is in flash is what the error left. */
static enum iap_status stop(struct iap_writer *w, struct iap_error *err)
{
  log_err("flash", "%s upload from %s refused: %s", w->protocol, w->peer, err->message);
  log_flash_state(w);
  w->active = false;
  return err->status;
}

enum iap_status iap_writer_begin(struct iap_writer *w, const char *protocol, const char *peer,
                                 uint32_t expected_size, struct iap_error *err)
{
  if (w->active) {
    fail(err, IAP_ERR_BUSY, "board busy: a %s upload from %s is in progress", w->protocol,
         w->peer);
    return err->status;
  }
  enum flash_result fr = flash_sync(w->flash);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_STORAGE, "upload refused: %s", flash_result_str(fr));
    log_err("flash", "%s upload from %s refused: %s", protocol, peer, err->message);
    return err->status;
  }
  if (expected_size > capacity(w)) {
    too_large(w, err, expected_size);
    log_err("flash", "%s upload from %s refused: %s", protocol, peer, err->message);
    return err->status;
  }
  w->active = true;
  w->erase_started = false;
  w->protocol = protocol;
  iap_snprintf(w->peer, sizeof(w->peer), "%s", peer);
  w->expected = expected_size;
  w->received = 0;
  w->crc = 0;
  w->erased = 0;
  w->seq = IAP_WITH_INTEGRITY ? next_seq(w) : 0;
  w->tail_len = 0;
  w->next_progress = 1;
  return IAP_OK;
}

static enum iap_status erase_sector(struct iap_writer *w, unsigned s, struct iap_error *err)
{
  if (w->erased & (1u << s))
    return IAP_OK;
  enum flash_result fr = flash_erase_sector(w->flash, s);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_FLASH, "flash erase of sector %u (0x%08x) failed: %s", s,
         (unsigned)stm32_flash_sector_base(s), flash_result_str(fr));
    return err->status;
  }
  w->erase_started = true;
  w->erased |= 1u << s;
  log_debug("flash", "erased sector %u (0x%08x, %u KiB)", s,
            (unsigned)stm32_flash_sector_base(s),
            (unsigned)(stm32_flash_sector_size(s) / 1024u));
  return IAP_OK;
}

/* Erases every sector of the slot up to the one holding slot offset `last`. */
static enum iap_status erase_through(struct iap_writer *w, uint32_t last, struct iap_error *err)
{
  int first = stm32_flash_sector_of(w->slot.base);
  int target = stm32_flash_sector_of(w->slot.base + last);
  for (int s = first; s <= target; s++)
    if (erase_sector(w, (unsigned)s, err) != IAP_OK)
      return err->status;
  return IAP_OK;
}

/* Programs len bytes at user-area offset `off` and reads them back. */
static enum iap_status program_verified(struct iap_writer *w, uint32_t off, const uint8_t *data,
                                        uint32_t len, struct iap_error *err)
{
  uint32_t addr = w->slot.base + off;
  enum flash_result fr;

  if (len == 0)
    return IAP_OK;
  if (erase_through(w, off + len - 1, err) != IAP_OK)
    return err->status;
  fr = flash_program(w->flash, addr, data, len);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_FLASH, "flash program at 0x%08x failed: %s", (unsigned)addr,
         flash_result_str(fr));
    return err->status;
  }
  for (uint32_t done = 0; done < len;) {
    uint8_t back[VERIFY_CHUNK];
    uint32_t n = len - done < VERIFY_CHUNK ? len - done : VERIFY_CHUNK;
    fr = flash_read(w->flash, addr + done, back, n);
    if (fr != FLASH_OK) {
      fail(err, IAP_ERR_FLASH, "flash read at 0x%08x failed: %s", (unsigned)(addr + done),
           flash_result_str(fr));
      return err->status;
    }
    /* memcmp first, the byte that differs only on failure: a byte loop here cost more than
     * programming did. */
    if (memcmp(back, data + done, n) != 0) {
      uint32_t i = 0;
      while (back[i] == data[done + i])
        i++;
      fail(err, IAP_ERR_FLASH,
           "flash verify failed at 0x%08x: wrote 0x%02x, read back 0x%02x (sector not erased?)",
           (unsigned)(addr + done + i), data[done + i], back[i]);
      return err->status;
    }
    done += n;
  }
  return IAP_OK;
}

static void log_progress(struct iap_writer *w)
{
  if (w->expected) {
    /* received <= capacity <= 1 MiB, so received * 10 fits 32 bits: no 64-bit division (and
     * no 700-byte libgcc routine in the firmware). */
    unsigned tenths = (unsigned)(w->received * 10u / w->expected);
    if (tenths >= 10)
      return;  /* 100 % is the "done" line */
    while (w->next_progress <= tenths) {
      log_info("flash", "%s: %u%% (%u of %u bytes)", w->protocol, w->next_progress * 10u,
               (unsigned)w->received, (unsigned)w->expected);
      w->next_progress = tenths + 1;
    }
  } else if (w->received >= w->next_progress * PROGRESS_UNKNOWN_STEP) {
    log_info("flash", "%s: %u KiB written", w->protocol, (unsigned)(w->received / 1024u));
    w->next_progress = w->received / PROGRESS_UNKNOWN_STEP + 1;
  }
}

/* Accepts the head (first 8 bytes); once complete, checks it and erases the first sector. */
static enum iap_status take_head(struct iap_writer *w, const uint8_t **data, size_t *len,
                                 struct iap_error *err)
{
  size_t take = IAP_WRITER_HEAD_BYTES - w->received;
  if (take > *len)
    take = *len;
  memcpy(w->head + w->received, *data, take);
  w->received += (uint32_t)take;
  *data += take;
  *len -= take;
  if (w->received < IAP_WRITER_HEAD_BYTES)
    return IAP_OK;
  if (!image_check_vectors(&w->area, image_le32(w->head), image_le32(w->head + 4),
                           err->message, sizeof(err->message))) {
    err->status = IAP_ERR_INVALID_IMAGE;
    return err->status;
  }
  log_info("flash", "%s: image for 0x%08x (MSP 0x%08x, reset 0x%08x), erasing as it arrives",
           w->protocol, (unsigned)w->area.base, (unsigned)image_le32(w->head),
           (unsigned)image_le32(w->head + 4));
  if (dual(w))
    log_info("flash", "%s: into the staging slot at 0x%08x; installed at the next reset",
             w->protocol, (unsigned)w->slot.base);
  /* Swap: a swap a flash error left unfinished would be resumed over this upload at the next
   * reset; the scratch's erase abandons it (iap_swap.h). */
  const struct iap_layout *l = &w->policy.layout;
  if (IAP_WITH_INTEGRITY && iap_layout_mode(l) == IAP_SLOTS_SWAP
      && iap_swap_unfinished(w->flash, l)) {
    log_warn("flash", "%s: abandoning the swap a flash error left unfinished", w->protocol);
    if (erase_sector(w, (unsigned)stm32_flash_sector_of(l->scratch.base), err) != IAP_OK)
      return err->status;
  }
  /* The slot's record goes first: no record of an earlier image survives the upload. */
  if (IAP_WITH_INTEGRITY
      && erase_sector(w, (unsigned)stm32_flash_sector_of(iap_slot_meta_addr(&w->slot)), err)
             != IAP_OK)
    return err->status;
  return erase_through(w, 0, err);
}

enum iap_status iap_writer_write(struct iap_writer *w, const uint8_t *data, size_t len,
                                 struct iap_error *err)
{
  if (!w->active) {
    fail(err, IAP_ERR_STATE, "no upload in progress");
    return err->status;
  }
  if (len > capacity(w) - w->received) {
    too_large(w, err, 0);
    return stop(w, err);
  }
  w->crc = crc32_update(w->crc, data, len);
  if (w->received < IAP_WRITER_HEAD_BYTES && take_head(w, &data, &len, err) != IAP_OK)
    return stop(w, err);

  while (len > 0) {
    /* Whole words go straight to flash; a partial word waits in `tail` for its next bytes.
     * Offsets after the head are word aligned exactly when tail_len is 0. */
    if (w->tail_len == 0 && len >= 4) {
      uint32_t run = (uint32_t)(len & ~(size_t)3);
      if (program_verified(w, w->received, data, run, err) != IAP_OK)
        return stop(w, err);
      w->received += run;
      data += run;
      len -= run;
    } else {
      w->tail[w->tail_len++] = *data++;
      len--;
      w->received++;
      if (w->tail_len == 4) {
        w->tail_len = 0;
        if (program_verified(w, w->received - 4, w->tail, 4, err) != IAP_OK)
          return stop(w, err);
      }
    }
  }
  log_progress(w);
  return IAP_OK;
}

/* *crc continued over flash from user-area offset `from` up to `to`, as read back. */
static enum iap_status crc_of_flash(struct iap_writer *w, uint32_t from, uint32_t to,
                                    uint32_t *crc, struct iap_error *err)
{
  uint8_t buf[VERIFY_CHUNK];
  for (uint32_t off = from; off < to;) {
    uint32_t n = to - off < VERIFY_CHUNK ? to - off : VERIFY_CHUNK;
    enum flash_result fr = flash_read(w->flash, w->slot.base + off, buf, n);
    if (fr != FLASH_OK) {
      fail(err, IAP_ERR_FLASH, "flash read at 0x%08x failed: %s",
           (unsigned)(w->slot.base + off),
           flash_result_str(fr));
      return err->status;
    }
    *crc = crc32_update(*crc, buf, n);
    off += n;
  }
  return IAP_OK;
}

/* Puts the SP slot of the uploaded image to zero (bits may always go 1 -> 0), which no check
 * accepts: an image refused after its head was programmed can never start. */
static void invalidate_head(struct iap_writer *w)
{
  static const uint8_t zero[4] = { 0, 0, 0, 0 };
  flash_program(w->flash, w->slot.base, zero, sizeof(zero));
  flash_sync(w->flash);
}

/* The file as received: its image length and, when it ends in a signature trailer, the
 * parsed trailer. */
static enum iap_status split_trailer(struct iap_writer *w, uint32_t *image_len,
                                     struct iap_trailer *t, struct iap_error *err)
{
  uint8_t buf[IAP_TRAILER_MAX];
  uint32_t img, tlen;
  enum flash_result fr;
  char why[96];

  memset(t, 0, sizeof(*t));
  *image_len = w->received;
  if (!IAP_WITH_INTEGRITY)
    return IAP_OK;  /* AN3376's check only: a trailer is part of the image, never read */
  if (w->received < IAP_WRITER_HEAD_BYTES + IAP_TRAILER_FOOTER)
    return IAP_OK;
  fr = flash_read(w->flash, w->slot.base + w->received - IAP_TRAILER_FOOTER, buf,
                  IAP_TRAILER_FOOTER);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_FLASH, "flash read failed: %s", flash_result_str(fr));
    return err->status;
  }
  if (!iap_trailer_footer(buf, w->received, &img, &tlen))
    return IAP_OK;  /* a plain image */
  if (img < IAP_WRITER_HEAD_BYTES) {
    fail(err, IAP_ERR_INVALID_IMAGE, "image too small: %u bytes before its signature trailer",
         (unsigned)img);
    return err->status;
  }
  fr = flash_read(w->flash, w->slot.base + img, buf, tlen);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_FLASH, "flash read failed: %s", flash_result_str(fr));
    return err->status;
  }
  if (!iap_trailer_parse(buf, tlen, img, t, why, sizeof(why))) {
    fail(err, IAP_ERR_INVALID_IMAGE, "%s", why);
    return err->status;
  }
  *image_len = img;
  return IAP_OK;
}

/* Under `signature`: the trailer's signature by the board's key, over the image's hash. */
static enum iap_status check_signature(struct iap_writer *w, const struct iap_trailer *t,
                                       const uint8_t digest[IAP_SHA256_BYTES],
                                       struct iap_error *err)
{
  const struct iap_pubkey *key = w->policy.key;
  char have[2 * IAP_KEY_ID_BYTES + 1], want[2 * IAP_KEY_ID_BYTES + 1] = "none";

  if (!t->has_signature || !t->has_key_id) {
    fail(err, IAP_ERR_INVALID_IMAGE, "image not signed: --boot-verify signature takes only "
         "images signed with iapd-image sign");
    return err->status;
  }
  iap_hex(t->key_id, IAP_KEY_ID_BYTES, have);
  if (key != NULL)
    iap_hex(key->id, IAP_KEY_ID_BYTES, want);
  if (key == NULL || memcmp(t->key_id, key->id, IAP_KEY_ID_BYTES) != 0) {
    fail(err, IAP_ERR_INVALID_IMAGE, "image signed with another key: key id %s, the board's "
         "is %s", have, want);
    return err->status;
  }
  if (!iap_ecdsa_p256_verify(key, digest, t->signature)) {
    fail(err, IAP_ERR_INVALID_IMAGE, "image signature does not verify with the board's key "
         "(key id %s): tampered with, or not this image's", want);
    return err->status;
  }
  return IAP_OK;
}

enum iap_status iap_writer_finish(struct iap_writer *w, struct iap_result *result,
                                  struct iap_error *err)
{
  uint32_t crc_flash, image_len;
  uint8_t digest[IAP_SHA256_BYTES];
  struct iap_trailer trailer;
  enum flash_result fr;

  if (!w->active) {
    fail(err, IAP_ERR_STATE, "no upload in progress");
    return err->status;
  }
  if (w->received < IAP_WRITER_HEAD_BYTES) {
    fail(err, IAP_ERR_INVALID_IMAGE,
         "image too small: %u bytes, an application's vector table alone takes %u",
         (unsigned)w->received, IAP_WRITER_HEAD_BYTES);
    return stop(w, err);
  }
  if (w->tail_len
      && program_verified(w, w->received - w->tail_len, w->tail, w->tail_len, err) != IAP_OK)
    return stop(w, err);
  w->tail_len = 0;

  /* Everything but the head is in flash and was read back as it was programmed; one more
   * pass over the body proves nothing changed since: its CRC-32, continued from the head's
   * (the head is still only in RAM), must be that of the image received. The head goes in
   * after the trailer's checks, read back like every write, so the flash holds exactly the
   * image of CRC-32 w->crc without a second pass over all of it; the commit record, last,
   * makes it bootable under integrity and signature. */
  crc_flash = crc32_update(0, w->head, IAP_WRITER_HEAD_BYTES);
  if (crc_of_flash(w, IAP_WRITER_HEAD_BYTES, w->received, &crc_flash, err) != IAP_OK)
    return stop(w, err);
  if (crc_flash != w->crc) {
    fail(err, IAP_ERR_FLASH, "flash verify failed: CRC-32 of the image read back 0x%08x, "
         "received 0x%08x", (unsigned)crc_flash, (unsigned)w->crc);
    return stop(w, err);
  }
  if (split_trailer(w, &image_len, &trailer, err) != IAP_OK)
    return stop(w, err);
  if (!image_check_extent(&w->area, image_le32(w->head + 4), image_len, err->message,
                          sizeof(err->message))) {
    err->status = IAP_ERR_INVALID_IMAGE;
    return stop(w, err);
  }
  if (program_verified(w, 0, w->head, IAP_WRITER_HEAD_BYTES, err) != IAP_OK)
    return stop(w, err);
  /* Without the record compiled in (IAP_WITH_INTEGRITY 0: AN3376's check only), the image
   * as read back is the end of it. */
  if (IAP_WITH_INTEGRITY) {
    /* The image is in flash as received. Its hash, as read back, goes into the record. */
    fr = iap_flash_sha256(w->flash, w->slot.base, image_len, digest);
    if (fr != FLASH_OK) {
      invalidate_head(w);
      fail(err, IAP_ERR_FLASH, "flash read failed: %s", flash_result_str(fr));
      return stop(w, err);
    }
    if (trailer.has_sha256 && memcmp(trailer.sha256, digest, IAP_SHA256_BYTES) != 0) {
      invalidate_head(w);
      fail(err, IAP_ERR_INVALID_IMAGE, "image corrupted: its SHA-256 is not the one its "
           "signature trailer holds");
      return stop(w, err);
    }
    if (w->policy.verify == IAP_VERIFY_SIGNATURE && !IAP_WITH_SIGNATURE)
      fail(err, IAP_ERR_INVALID_IMAGE, "signature verification is not built in");
    if (w->policy.verify == IAP_VERIFY_SIGNATURE
        && (!IAP_WITH_SIGNATURE || check_signature(w, &trailer, digest, err) != IAP_OK)) {
      invalidate_head(w);
      return stop(w, err);
    }

    /* Last: the commit record. Until its commit word is programmed the image is not bootable
     * under integrity and signature. */
    struct iap_record rec = {
      .image_addr = w->slot.base,
      .image_len = image_len,
      .trailer_len = trailer.trailer_len,
      .seq = w->seq,
    };
    memcpy(rec.sha256, digest, sizeof(digest));
    fr = iap_record_write(w->flash, iap_slot_meta_addr(&w->slot), &rec);
    if (fr != FLASH_OK) {
      fail(err, IAP_ERR_FLASH, "writing the commit record at 0x%08x failed: %s",
           (unsigned)iap_slot_meta_addr(&w->slot), flash_result_str(fr));
      return stop(w, err);
    }
  }
  fr = flash_sync(w->flash);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_STORAGE, "flash sync failed: %s", flash_result_str(fr));
    return stop(w, err);
  }
  result->size = w->received;
  result->crc32 = crc_flash;
  w->active = false;
  log_info("flash", "%s: done, %u bytes at 0x%08x, CRC-32 0x%08x", w->protocol,
           (unsigned)w->received, (unsigned)w->slot.base, (unsigned)crc_flash);
  if (IAP_WITH_INTEGRITY) {
    char hex[2 * IAP_SHA256_BYTES + 1];
    iap_hex(digest, sizeof(digest), hex);
    log_info("flash", "%s: record #%u: %u-byte image%s, SHA-256 %s", w->protocol,
             (unsigned)w->seq, (unsigned)image_len,
             trailer.trailer_len ? " and its signature trailer" : "", hex);
  }
  return IAP_OK;
}

void iap_writer_abort(struct iap_writer *w, const char *why)
{
  if (!w->active)
    return;
  log_warn("flash", "%s upload from %s aborted after %u bytes: %s", w->protocol, w->peer,
           (unsigned)w->received, why);
  log_flash_state(w);
  w->active = false;
}

static enum iap_status sink_begin(void *ctx, const char *protocol, const char *peer,
                                  uint32_t expected_size, struct iap_error *err)
{
  return iap_writer_begin(ctx, protocol, peer, expected_size, err);
}

static enum iap_status sink_write(void *ctx, const uint8_t *data, size_t len,
                                  struct iap_error *err)
{
  return iap_writer_write(ctx, data, len, err);
}

static enum iap_status sink_finish(void *ctx, struct iap_result *result, struct iap_error *err)
{
  return iap_writer_finish(ctx, result, err);
}

static void sink_abort(void *ctx, const char *why)
{
  iap_writer_abort(ctx, why);
}

const struct image_sink_ops iap_writer_sink_ops = {
  .begin = sink_begin,
  .write = sink_write,
  .finish = sink_finish,
  .abort = sink_abort,
};
