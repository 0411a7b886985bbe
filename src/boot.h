/*
 * The reset decision of the bootloader (AN3376 Figure 1, with a real validity check):
 * Key held, or no valid application in the user area, means IAP mode; otherwise jump.
 */
#ifndef IAPD_BOOT_H
#define IAPD_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"
#include "iap_slots.h"
#include "iap_swap.h"
#include "image.h"

enum boot_mode { BOOT_IAP_MODE, BOOT_APPLICATION };

enum boot_reason {
  BOOT_REASON_KEY,          /* Key held at reset: IAP mode asked for */
  BOOT_REASON_NO_APP,       /* user area's vector table erased */
  BOOT_REASON_INVALID_APP,  /* vector table present but not bootable */
  BOOT_REASON_FLASH_ERROR,  /* vector table could not be read */
  BOOT_REASON_VALID_APP,    /* jump */
  BOOT_REASON_INTEGRITY,    /* integrity/signature policy: no valid record, or hash mismatch */
  BOOT_REASON_SIGNATURE,    /* signature policy: not signed, another key, or a bad signature */
};

struct boot_decision {
  enum boot_mode mode;
  enum boot_reason reason;
  uint32_t msp;         /* vector table word 0, as stored */
  uint32_t pc;          /* vector table word 1, as stored (Thumb bit included) */
  char detail[192];     /* why, in words */
  /* boot_go() only: the policy it applied and what each slot held (staging: dual only). */
  enum iap_verify verify;
  enum iap_slots_mode slots;
  struct iap_slot_status primary, staging;
  bool installed;                           /* this reset copied or swapped staging in */
  struct iap_install_result install;        /* dual: the copy's figures, when one ran */
  struct iap_swap_result swap;              /* swap: the last swap's figures, when one ran */
};

/* Reads the vector table at area->base from flash and decides: AN3376's check alone
 * (--boot-verify vectors), one slot. */
void boot_decide(bool key_held, const struct image_area *area, const struct flash_dev *flash,
                 struct boot_decision *out);

/* The whole reset decision under a policy (iap_slots.h): in dual mode a verified staging
 * image that primary does not hold yet is installed first (not while Key is held); in swap
 * mode a swap cut short is finished first (Key or not: its halves are in three places),
 * then, Key released, a newer verified staging image is swapped in, and a primary that does
 * not verify is swapped back for the verified older image in staging; then
 * Key, the vector table (vectors), and the primary slot's record, SHA-256 and signature
 * (integrity, signature) decide. */
void boot_go(bool key_held, const struct iap_policy *policy, const struct flash_dev *flash,
             struct boot_decision *out);

/* Short name of a reason, for logs and status. */
const char *boot_reason_str(enum boot_reason reason);

#endif
