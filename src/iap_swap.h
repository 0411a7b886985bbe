/*
 * The swap layout's install (--slots swap): the verified staging image and the primary
 * slot's content trade places through a scratch sector, so the image that ran before stays
 * whole in the staging slot until the new one is verified in primary, and comes back if
 * the new one does not verify. The design follows MCUboot's swap with scratch; the status
 * format is ours.
 *
 * LAYOUT. The slots need sectors of one size that pair up, which the STM32F407 has from
 * sector 5 on: with a 128 KiB bootloader area (user flash at 0x08020000), primary = sectors
 * 5-7, staging = sectors 8-10, scratch = sector 11. Unit k is the k-th sector of each slot.
 * The last 128 bytes of each slot's last sector are left out of the slot (so its record
 * sits 256 bytes before the sector's end) and the scratch keeps its last 256 bytes for the
 * journal below: the largest image is 3 x 128 KiB - 256 = 392960 bytes.
 *
 * THE SWAP, unit by unit from the first, three steps each, every step marked done when it
 * completed and was read back:
 *   0: erase the scratch; copy primary k into it;
 *   1: erase primary k; copy staging k into it;
 *   2: erase staging k; copy the scratch into it.
 * The last unit's copies stop before the slots' records. A last step (3 x units) writes the
 * records: the incoming image's into primary and, on an upgrade, the outgoing image's into
 * staging, where it stays as the fallback (its lower sequence number keeps it from being
 * installed again). Every step reads only what no earlier unmarked step can have changed,
 * so a cut anywhere repeats the step it stopped, and the next reset finishes the swap.
 *
 * MARKS. Mark i is one word whose value depends on the incoming record's sequence number,
 * the kind of swap and i (never 0xFFFFFFFF; a torn program leaves some other value). Where
 * marks live must survive the steps they describe:
 *  - units before the last: after the staging slot's record (staging meta + 64 + 4i); that
 *    sector is the last unit's, untouched until then, and the record beside the marks names
 *    the incoming image;
 *  - the last unit and the records step: in the scratch's journal, written at step 0 of the
 *    last unit after its copy: a copy of the incoming record (+0), of the outgoing one if
 *    any (+64, erased: none) and the marks (+128). Its step 1 erases primary's record and
 *    step 2 staging's, so from then on the journal is the only copy of both.
 * A reset looks for a journal with its first mark set, and for marks beside the staging
 * record; either says what to finish. A journal whose records step is marked is a finished
 * swap: nothing to do. While staging holds a record, a journal counts only if it names the
 * same image: before the last unit the scratch holds a primary sector, and its last bytes
 * are image bytes, which could look like a journal. (Staging's record is erased by the last
 * unit's step 2; the old image's written there by the records step makes the swap done.)
 *
 * A swap is finished at every reset before anything else, so an upload never meets one,
 * unless a flash error stopped it: then the upload abandons it (iap_writer.c erases the
 * scratch and, with staging's record sector, every mark), or it would be resumed over the
 * upload's bytes.
 *
 * REVERT. When primary does not verify after a swap and staging holds the verified image it
 * replaced (a lower sequence number), the same steps run again as a revert: the old image
 * goes back to primary and what leaves it gets no record, so it is never installed again.
 */
#ifndef IAPD_IAP_SWAP_H
#define IAPD_IAP_SWAP_H

#include <stdbool.h>

#include "flash.h"
#include "iap_slots.h"

#define IAP_SWAP_SLOT_TAIL    128u  /* bytes of each slot's last sector outside the slot */
#define IAP_SWAP_JOURNAL      256u  /* the scratch's last bytes: the journal */

struct iap_swap_result {
  bool revert;               /* the older image went back to primary */
  bool resumed;              /* a swap cut short at an earlier reset was finished */
  unsigned steps_done;       /* steps run this time */
  unsigned steps_skipped;    /* steps found done (resumed) */
  enum flash_result fr;      /* FLASH_OK, or the error that stopped it */
};

/* Lays the swap layout over the user flash; false, with why, where the sectors do not pair
 * up (iap_layout_init then keeps the single layout). */
bool iap_swap_layout(struct iap_layout *l, const struct image_area *user, char *why,
                     unsigned why_size);

/* Finishes a swap a power cut interrupted, if the flash shows one; true when it ran. */
bool iap_swap_resume(const struct flash_dev *f, const struct iap_layout *l,
                     struct iap_swap_result *out);

/* True when the flash shows a swap cut short (what iap_swap_resume() would finish). */
bool iap_swap_unfinished(const struct flash_dev *f, const struct iap_layout *l);

/* Swaps the verified staging image described by in into primary. out_rec: primary's record
 * to keep in staging (an upgrade), or NULL (a revert, or primary holds no record). */
void iap_swap_start(const struct flash_dev *f, const struct iap_layout *l,
                    const struct iap_record *in, const struct iap_record *out_rec,
                    bool revert, struct iap_swap_result *out);

#endif
