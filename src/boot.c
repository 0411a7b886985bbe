/* The reset decision (see boot.h). */
#include "boot.h"

#include <string.h>

#include "flash.h"
#include "iap_format.h"

const char *boot_reason_str(enum boot_reason reason)
{
  switch (reason) {
  case BOOT_REASON_KEY:         return "Key button held";
  case BOOT_REASON_NO_APP:      return "no application";
  case BOOT_REASON_INVALID_APP: return "invalid application";
  case BOOT_REASON_FLASH_ERROR: return "flash read error";
  case BOOT_REASON_VALID_APP:   return "valid application";
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
