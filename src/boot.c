/* The reset decision (see boot.h). */
#include "boot.h"

#include <string.h>

#include "flash.h"
#include "iap_opts.h"
#include "log.h"
#include "iap_format.h"

const char *boot_reason_str(enum boot_reason reason)
{
  switch (reason) {
  case BOOT_REASON_KEY:         return "Key button held";
  case BOOT_REASON_NO_APP:      return "no application";
  case BOOT_REASON_INVALID_APP: return "invalid application";
  case BOOT_REASON_FLASH_ERROR: return "flash read error";
  case BOOT_REASON_VALID_APP:   return "valid application";
  case BOOT_REASON_INTEGRITY:   return "image integrity";
  case BOOT_REASON_SIGNATURE:   return "image signature";
  }
  return "unknown";
}

void boot_decide(bool key_held, const struct image_area *area, const struct flash_dev *flash,
                 struct boot_decision *out)
{
  uint8_t vectors[8];
  enum flash_result fr;

  memset(out, 0, sizeof(*out));
  out->mode = BOOT_IAP_MODE;

  fr = flash_read(flash, area->base, vectors, sizeof(vectors));
  if (fr != FLASH_OK) {
    out->reason = BOOT_REASON_FLASH_ERROR;
    iap_snprintf(out->detail, sizeof(out->detail), "cannot read the vector table at 0x%08x: %s",
             (unsigned)area->base, flash_result_str(fr));
    return;
  }
  out->msp = image_le32(vectors);
  out->pc = image_le32(vectors + 4);

  if (key_held) {
    out->reason = BOOT_REASON_KEY;
    iap_snprintf(out->detail, sizeof(out->detail), "Key button held at reset");
    return;
  }
  if (out->msp == 0xFFFFFFFFu && out->pc == 0xFFFFFFFFu) {
    out->reason = BOOT_REASON_NO_APP;
    iap_snprintf(out->detail, sizeof(out->detail), "no application at 0x%08x (erased)",
             (unsigned)area->base);
    return;
  }
  if (!image_check_vectors(area, out->msp, out->pc, out->detail, sizeof(out->detail))) {
    out->reason = BOOT_REASON_INVALID_APP;
    return;
  }
  out->mode = BOOT_APPLICATION;
  out->reason = BOOT_REASON_VALID_APP;
  iap_snprintf(out->detail, sizeof(out->detail), "valid application at 0x%08x",
           (unsigned)area->base);
}

static bool same_image(const struct iap_slot_status *a, const struct iap_slot_status *b)
{
  return a->record_valid && b->record_valid && a->record.seq == b->record.seq
         && a->record.image_len == b->record.image_len
         && a->record.trailer_len == b->record.trailer_len
         && memcmp(a->record.sha256, b->record.sha256, IAP_SHA256_BYTES) == 0;
}

/* Dual mode: a verified staging image that primary does not hold yet is copied over. */
static void install_staging(const struct iap_policy *p, const struct flash_dev *flash,
                            enum iap_verify level, struct iap_slot_status *primary,
                            const struct iap_slot_status *staging,
                            struct iap_install_result *result, bool *installed)
{
  const struct iap_layout *l = &p->layout;

  if (staging->content != IAP_SLOT_VERIFIED
      || (primary->content == IAP_SLOT_VERIFIED && same_image(primary, staging)))
    return;
  /* Every sector marked done and still no verified primary: start over without marks. */
  bool restart = iap_install_all_done(flash, l, &staging->record);
  log_info("boot", "installing image #%u (%u bytes) from staging 0x%08x into 0x%08x%s",
           (unsigned)staging->record.seq, (unsigned)staging->record.image_len,
           (unsigned)l->staging.base, (unsigned)l->primary.base,
           restart ? " (copied before, but primary does not verify: copying again)" : "");
  iap_install(flash, l, &staging->record, restart, result);
  *installed = true;
  if (result->fr != FLASH_OK)
    log_err("boot", "install stopped: %s", flash_result_str(result->fr));
  else
    log_info("boot", "installed: %u sectors copied, %u already done",
             result->sectors_copied, result->sectors_skipped);
  iap_slot_inspect(flash, &l->primary, &l->primary, level, p->key, primary);
}

static void log_swap(const struct iap_swap_result *r)
{
  if (r->fr != FLASH_OK)
    log_err("boot", "swap stopped: %s", flash_result_str(r->fr));
  else
    log_info("boot", "%s: %u steps, %u already done", r->revert ? "reverted" : "swapped",
             r->steps_done, r->steps_skipped);
}

/* Swap mode: what the staging image asks for against primary (see boot.h). */
static bool swap_wanted(const struct iap_slot_status *primary,
                        const struct iap_slot_status *staging, bool *revert)
{
  if (staging->content != IAP_SLOT_VERIFIED)
    return false;
  if (primary->content == IAP_SLOT_VERIFIED) {
    *revert = false;
    return staging->record.seq > primary->record.seq;
  }
  *revert = primary->record_valid && staging->record.seq < primary->record.seq;
  return true;
}

static void swap_slots(bool key_held, const struct iap_policy *p, const struct flash_dev *flash,
                       enum iap_verify level, struct iap_slot_status *primary,
                       struct iap_slot_status *staging, struct iap_swap_result *r,
                       bool *installed)
{
  const struct iap_layout *l = &p->layout;

  if (iap_swap_resume(flash, l, r)) {
    log_info("boot", "finishing a swap cut short at the last reset");
    log_swap(r);
    *installed = true;
  }
  /* At most an upgrade and the revert of an upgrade that does not verify in primary. */
  for (int round = 0; round < 2 && r->fr == FLASH_OK; round++) {
    bool revert = false;
    iap_slot_inspect(flash, &l->primary, &l->primary, level, p->key, primary);
    iap_slot_inspect(flash, &l->staging, &l->primary, level, p->key, staging);
    if (key_held || !swap_wanted(primary, staging, &revert))
      return;
    log_info("boot", "%s image #%u (%u bytes) from staging 0x%08x into 0x%08x",
             revert ? "primary does not verify: reverting to" : "swapping in",
             (unsigned)staging->record.seq, (unsigned)staging->record.image_len,
             (unsigned)l->staging.base, (unsigned)l->primary.base);
    iap_swap_start(flash, l, &staging->record,
                   revert || !primary->record_valid ? NULL : &primary->record, revert, r);
    log_swap(r);
    *installed = true;
  }
  iap_slot_inspect(flash, &l->primary, &l->primary, level, p->key, primary);
  iap_slot_inspect(flash, &l->staging, &l->primary, level, p->key, staging);
}

void boot_go(bool key_held, const struct iap_policy *p, const struct flash_dev *flash,
             struct boot_decision *out)
{
  const struct iap_layout *l = &p->layout;
  /* Records are checked under every policy, so the status shows what each slot holds; a
   * staging image is installed only when it passes integrity (or signature). */
  enum iap_verify level = p->verify == IAP_VERIFY_SIGNATURE ? IAP_VERIFY_SIGNATURE
                                                            : IAP_VERIFY_INTEGRITY;
  struct iap_slot_status primary, staging;
  struct iap_install_result install;
  struct iap_swap_result swap;  /* set by swap_slots(): read in swap mode only */
  bool installed = false;

  memset(&staging, 0, sizeof(staging));
  memset(&install, 0, sizeof(install));
  memset(&primary, 0, sizeof(primary));
  if (IAP_WITH_INTEGRITY && iap_layout_mode(l) == IAP_SLOTS_SWAP)
    swap_slots(key_held, p, flash, level, &primary, &staging, &swap, &installed);
  else if (IAP_WITH_INTEGRITY)
    iap_slot_inspect(flash, &l->primary, &l->primary, level, p->key, &primary);
  if (IAP_WITH_INTEGRITY && iap_layout_mode(l) == IAP_SLOTS_DUAL) {
    iap_slot_inspect(flash, &l->staging, &l->primary, level, p->key, &staging);
    if (!key_held)
      install_staging(p, flash, level, &primary, &staging, &install, &installed);
  }

  boot_decide(key_held, &l->primary, flash, out);
  out->verify = p->verify;
  out->slots = l->mode;
  out->primary = primary;
  out->staging = staging;
  out->installed = installed;
  out->install = install;
  if (IAP_WITH_INTEGRITY && iap_layout_mode(l) == IAP_SLOTS_SWAP)
    out->swap = swap;
  if (!IAP_WITH_INTEGRITY || out->mode != BOOT_APPLICATION || p->verify == IAP_VERIFY_VECTORS)
    return;
  if (primary.content != IAP_SLOT_VERIFIED) {
    out->mode = BOOT_IAP_MODE;
    out->reason = primary.signature_failed ? BOOT_REASON_SIGNATURE : BOOT_REASON_INTEGRITY;
  }
  iap_snprintf(out->detail, sizeof(out->detail), "%s", primary.detail);
}
