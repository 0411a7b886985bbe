/* Slots, boot policies, inspection and the install (see iap_slots.h). */
#include "iap_slots.h"

#include <stdarg.h>
#include <string.h>

#include "iap_format.h"
#include "iap_opts.h"
#include "iap_swap.h"
#include "stm32f407.h"

#define CHUNK 256u
/* The install's and the swap's program calls: 1 KiB each, so a 128 KiB sector takes 128
 * calls (what a power-cut sweep has to cut) for 2 KiB of stack with the read-back. */
#define COPY_CHUNK 1024u

void iap_layout_init(struct iap_layout *l, enum iap_slots_mode mode,
                     const struct image_area *user)
{
  memset(l, 0, sizeof(*l));
  l->user = *user;
  l->primary = *user;
  l->staging = *user;
  /* IAP_WITH_DUAL_SLOTS 0 (a constant): the layouts below are compiled out; IAP_CONFIG_FIXED:
   * all but IAP_SLOTS's. */
  if (IAP_CONFIG_FIXED && mode != IAP_SLOTS_SINGLE)
    mode = (enum iap_slots_mode)IAP_SLOTS;
  l->mode = mode;
  if (IAP_WITH_DUAL_SLOTS && mode == IAP_SLOTS_SWAP) {
    char why[8];
    if (!iap_swap_layout(l, user, why, sizeof(why)))
      iap_layout_init(l, IAP_SLOTS_SINGLE, user);
    return;
  }
  if (!IAP_WITH_DUAL_SLOTS || mode != IAP_SLOTS_DUAL) {
    l->mode = IAP_SLOTS_SINGLE;
    return;
  }
  /* The split point that makes the smaller slot largest; the first such one. */
  int first = stm32_flash_sector_of(user->base), last = stm32_flash_sector_of(user->end - 1);
  uint32_t best = 0, split = user->end;
  for (int s = first + 1; first >= 0 && s <= last; s++) {
    uint32_t at = stm32_flash_sector_base((unsigned)s);
    uint32_t lo = at - user->base, hi = user->end - at;
    uint32_t m = lo < hi ? lo : hi;
    if (m > best) {
      best = m;
      split = at;
    }
  }
  l->primary.end = split;
  l->staging.base = split;
}

uint32_t iap_slot_capacity(const struct image_area *slot)
{
  uint32_t size = slot->end - slot->base;
  return size > IAP_SLOT_META_BYTES ? size - IAP_SLOT_META_BYTES : 0;
}

uint32_t iap_slot_meta_addr(const struct image_area *slot)
{
  return slot->end - IAP_SLOT_META_BYTES;
}

uint32_t iap_layout_max_image(const struct iap_layout *l)
{
  uint32_t p = iap_slot_capacity(&l->primary), s = iap_slot_capacity(&l->staging);
  return p < s ? p : s;
}

const char *iap_slots_str(enum iap_slots_mode mode)
{
  if (!IAP_WITH_DUAL_SLOTS || mode == IAP_SLOTS_SINGLE)
    return "single";
  return mode == IAP_SLOTS_DUAL ? "dual" : "swap";
}

const char *iap_verify_str(enum iap_verify verify)
{
  switch (verify) {
  case IAP_VERIFY_VECTORS:   return "vectors";
  case IAP_VERIFY_INTEGRITY: return "integrity";
  case IAP_VERIFY_SIGNATURE: return "signature";
  }
  return "unknown";
}

const char *iap_slot_content_str(enum iap_slot_content c)
{
  switch (c) {
  case IAP_SLOT_EMPTY:      return "empty";
  case IAP_SLOT_UNRECORDED: return "no record";
  case IAP_SLOT_INVALID:    return "invalid";
  case IAP_SLOT_VERIFIED:   return "verified";
  }
  return "unknown";
}

enum flash_result iap_flash_sha256(const struct flash_dev *f, uint32_t addr, uint32_t len,
                                   uint8_t out[IAP_SHA256_BYTES])
{
  struct iap_sha256 h;
  uint8_t buf[CHUNK];

  iap_sha256_start(&h);
  for (uint32_t done = 0; done < len;) {
    uint32_t n = len - done < CHUNK ? len - done : CHUNK;
    enum flash_result fr = flash_read(f, addr + done, buf, n);
    if (fr != FLASH_OK) {
      iap_sha256_finish(&h, out);
      return fr;
    }
    iap_sha256_update(&h, buf, n);
    done += n;
  }
  iap_sha256_finish(&h, out);
  return FLASH_OK;
}

enum flash_result iap_program_checked(const struct flash_dev *f, uint32_t addr,
                                      const uint8_t *data, uint32_t len)
{
  uint8_t back[CHUNK];
  enum flash_result fr = flash_program(f, addr, data, len);
  for (uint32_t done = 0; fr == FLASH_OK && done < len;) {
    uint32_t n = len - done < CHUNK ? len - done : CHUNK;
    fr = flash_read(f, addr + done, back, n);
    if (fr == FLASH_OK && memcmp(back, data + done, n) != 0)
      fr = FLASH_ERR_VERIFY;
    done += n;
  }
  return fr;
}

enum flash_result iap_record_write(const struct flash_dev *f, uint32_t meta_addr,
                                   const struct iap_record *r)
{
  uint8_t bytes[IAP_RECORD_BYTES];
  enum flash_result fr;

  iap_record_encode(r, bytes);
  fr = iap_program_checked(f, meta_addr, bytes, IAP_RECORD_BODY);
  if (fr == FLASH_OK)
    fr = iap_program_checked(f, meta_addr + IAP_RECORD_BODY, bytes + IAP_RECORD_BODY,
                             IAP_RECORD_BYTES - IAP_RECORD_BODY);
  return fr;
}

static void set_detail(struct iap_slot_status *st, enum iap_slot_content c, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));

static void set_detail(struct iap_slot_status *st, enum iap_slot_content c, const char *fmt,
                       ...)
{
  va_list ap;
  st->content = c;
  va_start(ap, fmt);
  iap_vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
  va_end(ap);
}

/* The signature check of a verified-hash image: its trailer, read after the image. */
static void check_signature(const struct flash_dev *f, const struct image_area *slot,
                            const struct iap_pubkey *key, struct iap_slot_status *st)
{
  const struct iap_record *r = &st->record;
  uint8_t buf[IAP_TRAILER_MAX];
  struct iap_trailer t;
  char why[96], have[2 * IAP_KEY_ID_BYTES + 1], want[2 * IAP_KEY_ID_BYTES + 1];

  st->signature_failed = true;
  if (r->trailer_len == 0) {
    set_detail(st, IAP_SLOT_INVALID, "not signed (no signature trailer after the %u-byte "
               "image at 0x%08x)", (unsigned)r->image_len, (unsigned)slot->base);
    return;
  }
  if (flash_read(f, slot->base + r->image_len, buf, r->trailer_len) != FLASH_OK) {
    st->read_error = true;
    set_detail(st, IAP_SLOT_INVALID, "cannot read the signature trailer at 0x%08x",
               (unsigned)(slot->base + r->image_len));
    return;
  }
  if (!iap_trailer_parse(buf, r->trailer_len, r->image_len, &t, why, sizeof(why))) {
    set_detail(st, IAP_SLOT_INVALID, "%s at 0x%08x", why,
               (unsigned)(slot->base + r->image_len));
    return;
  }
  if (!t.has_signature || !t.has_key_id || !t.has_sha256) {
    set_detail(st, IAP_SLOT_INVALID, "not signed (the trailer holds no signature)");
    return;
  }
  if (memcmp(t.sha256, r->sha256, IAP_SHA256_BYTES) != 0) {
    set_detail(st, IAP_SLOT_INVALID, "the trailer's SHA-256 is not the image's");
    return;
  }
  if (key == NULL || memcmp(t.key_id, key->id, IAP_KEY_ID_BYTES) != 0) {
    iap_hex(t.key_id, IAP_KEY_ID_BYTES, have);
    if (key != NULL)
      iap_hex(key->id, IAP_KEY_ID_BYTES, want);
    set_detail(st, IAP_SLOT_INVALID, "signed with another key (key id %s, the board's is %s)",
               have, key != NULL ? want : "none");
    return;
  }
  if (!iap_ecdsa_p256_verify(key, r->sha256, t.signature)) {
    set_detail(st, IAP_SLOT_INVALID, "ECDSA P-256 signature does not verify (key id %s)",
               (iap_hex(key->id, IAP_KEY_ID_BYTES, want), want));
    return;
  }
  st->signature_failed = false;
}

void iap_slot_inspect(const struct flash_dev *f, const struct image_area *slot,
                      const struct image_area *run, enum iap_verify level,
                      const struct iap_pubkey *key, struct iap_slot_status *st)
{
  uint8_t rec[IAP_RECORD_BYTES], head[8], digest[IAP_SHA256_BYTES];
  uint32_t meta = iap_slot_meta_addr(slot);
  char why[96];

  memset(st, 0, sizeof(*st));
  if (flash_read(f, meta, rec, sizeof(rec)) != FLASH_OK
      || flash_read(f, slot->base, head, sizeof(head)) != FLASH_OK) {
    st->read_error = true;
    set_detail(st, IAP_SLOT_INVALID, "cannot read the slot at 0x%08x", (unsigned)slot->base);
    return;
  }
  enum iap_record_state rs = iap_record_decode(rec, slot->base, iap_slot_capacity(slot),
                                               &st->record, why, sizeof(why));
  if (rs != IAP_RECORD_VALID) {
    bool erased = image_le32(head) == 0xFFFFFFFFu && image_le32(head + 4) == 0xFFFFFFFFu;
    memset(&st->record, 0, sizeof(st->record));
    if (erased && rs == IAP_RECORD_NONE)
      set_detail(st, IAP_SLOT_EMPTY, "empty at 0x%08x", (unsigned)slot->base);
    else
      set_detail(st, IAP_SLOT_UNRECORDED, "no valid commit record for the image at 0x%08x "
                 "(%s)", (unsigned)slot->base, why);
    return;
  }
  st->record_valid = true;
  if (iap_flash_sha256(f, slot->base, st->record.image_len, digest) != FLASH_OK) {
    st->read_error = true;
    set_detail(st, IAP_SLOT_INVALID, "cannot read the image at 0x%08x", (unsigned)slot->base);
    return;
  }
  if (memcmp(digest, st->record.sha256, sizeof(digest)) != 0) {
    set_detail(st, IAP_SLOT_INVALID, "SHA-256 mismatch at 0x%08x, %u bytes",
               (unsigned)slot->base, (unsigned)st->record.image_len);
    return;
  }
  char msg[200];
  if (!image_check_vectors(run, image_le32(head), image_le32(head + 4), msg, sizeof(msg))
      || !image_check_extent(run, image_le32(head + 4), st->record.image_len, msg,
                             sizeof(msg))) {
    set_detail(st, IAP_SLOT_INVALID, "%.150s", msg);
    return;
  }
  if (level == IAP_VERIFY_SIGNATURE) {
    if (!IAP_WITH_SIGNATURE) {  /* a constant: the check below is compiled out */
      st->signature_failed = true;
      set_detail(st, IAP_SLOT_INVALID, "signature verification is not built in");
      return;
    }
    check_signature(f, slot, key, st);
    if (st->signature_failed)
      return;
  }
  set_detail(st, IAP_SLOT_VERIFIED, "image #%u, %u bytes at 0x%08x, SHA-256 verified%s",
             (unsigned)st->record.seq, (unsigned)st->record.image_len, (unsigned)slot->base,
             level == IAP_VERIFY_SIGNATURE ? ", signature verified" : "");
}

/* --- the install ---------------------------------------------------------------------- */

uint32_t iap_progress_word(uint32_t seq, unsigned k)
{
  uint32_t v = (seq * 0x9E3779B1u) ^ (0x50470000u | k);
  return v == 0xFFFFFFFFu ? 0x50470000u : v;
}

static uint32_t progress_addr(const struct iap_layout *l, unsigned k)
{
  return iap_slot_meta_addr(&l->staging) + IAP_PROGRESS_OFFSET + 4u * k;
}

static bool sector_done(const struct flash_dev *f, const struct iap_layout *l,
                        const struct iap_record *rec, unsigned k)
{
  uint8_t w[4];
  return flash_read(f, progress_addr(l, k), w, 4) == FLASH_OK
         && image_le32(w) == iap_progress_word(rec->seq, k);
}

/* The primary sectors the copy writes: those holding the image and its trailer, and the
 * last one, which holds the primary record. */
static bool sector_needed(const struct iap_layout *l, const struct iap_record *rec, unsigned s)
{
  uint32_t end = l->primary.base + rec->image_len + rec->trailer_len;
  return stm32_flash_sector_base(s) < end
         || (int)s == stm32_flash_sector_of(l->primary.end - 1);
}

bool iap_install_all_done(const struct flash_dev *f, const struct iap_layout *l,
                          const struct iap_record *rec)
{
  int first = stm32_flash_sector_of(l->primary.base);
  int last = stm32_flash_sector_of(l->primary.end - 1);
  for (int s = first; s <= last; s++)
    if (sector_needed(l, rec, (unsigned)s) && !sector_done(f, l, rec, (unsigned)(s - first)))
      return false;
  return true;
}

static bool erased(const uint8_t *b, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    if (b[i] != STM32_FLASH_ERASED_BYTE)
      return false;
  return true;
}

enum flash_result iap_flash_copy(const struct flash_dev *f, uint32_t from, uint32_t to,
                                 uint32_t len)
{
  uint8_t buf[COPY_CHUNK];
  for (uint32_t done = 0; done < len;) {
    uint32_t n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
    enum flash_result fr = flash_read(f, from + done, buf, n);
    if (fr == FLASH_OK && !erased(buf, n))
      fr = iap_program_checked(f, to + done, buf, n);
    if (fr != FLASH_OK)
      return fr;
    done += n;
  }
  return FLASH_OK;
}

void iap_install(const struct flash_dev *f, const struct iap_layout *l,
                 const struct iap_record *rec, bool restart, struct iap_install_result *out)
{
  int first = stm32_flash_sector_of(l->primary.base);
  int last = stm32_flash_sector_of(l->primary.end - 1);
  uint32_t total = rec->image_len + rec->trailer_len;

  memset(out, 0, sizeof(*out));
  out->restarted = restart;
  for (int s = first; s <= last && out->fr == FLASH_OK; s++) {
    unsigned k = (unsigned)(s - first);
    uint32_t sb = stm32_flash_sector_base((unsigned)s);
    uint32_t se = sb + stm32_flash_sector_size((unsigned)s);
    if (!sector_needed(l, rec, (unsigned)s))
      continue;
    if (!restart && sector_done(f, l, rec, k)) {
      out->sectors_skipped++;
      continue;
    }
    out->fr = flash_erase_sector(f, (unsigned)s);
    uint32_t img_end = l->primary.base + total;
    if (out->fr == FLASH_OK && sb < img_end) {
      uint32_t to = se < img_end ? se : img_end;
      out->fr = iap_flash_copy(f, l->staging.base + (sb - l->primary.base), sb, to - sb);
    }
    if (out->fr == FLASH_OK && s == last) {
      struct iap_record pr = *rec;
      pr.image_addr = l->primary.base;
      out->fr = iap_record_write(f, iap_slot_meta_addr(&l->primary), &pr);
    }
    if (out->fr != FLASH_OK)
      break;
    out->sectors_copied++;
    if (!restart) {
      uint8_t w[4];
      image_put_le32(w, iap_progress_word(rec->seq, k));
      out->fr = iap_program_checked(f, progress_addr(l, k), w, 4);
    }
  }
}
