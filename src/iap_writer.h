/*
 * The flash writer: streams an uploaded image into the user area through a flash device, the
 * same way for every protocol. What it promises:
 *  - the vector table (first 8 bytes) is checked before anything is erased: a refused image
 *    leaves flash untouched;
 *  - sectors are erased as the image reaches them, not the whole area up front;
 *  - the first 8 bytes (initial SP, reset vector) are held back and programmed last, after
 *    everything else is programmed and read back equal, so an interrupted or refused upload
 *    leaves 0xFFFFFFFF at the SP slot and the board stays in IAP mode;
 *  - an image larger than the user area is refused at the first byte past its end;
 *  - one upload at a time (IAP_ERR_BUSY);
 *  - the upload goes to the policy's staging slot (iap_slots.h): in dual mode the running
 *    image's slot is never erased; in single mode the slot's commit record is erased first;
 *  - when the image is complete and read back, the commit record (image_record.h) is
 *    written last: magic, version, address and length, SHA-256, sequence number, CRC-32,
 *    commit word. A file that ends in a signature trailer (iapd-image sign) is split there:
 *    the record covers the image, the trailer is stored after it. Under the `signature`
 *    policy a file without a good signature by the board's key is refused at its end, when
 *    the trailer has arrived, and gets no record.
 *  - an upload starts only when the flash device syncs (IAP_ERR_STORAGE otherwise): a store
 *    that cannot keep the image is found before anything is erased, and again at the end.
 */
#ifndef IAPD_IAP_WRITER_H
#define IAPD_IAP_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "flash.h"
#include "image.h"
#include "image_sink.h"
#include "iap_slots.h"

#define IAP_WRITER_HEAD_BYTES 8u  /* initial SP + reset vector */

struct iap_writer {
  struct iap_policy policy;       /* layout, boot policy, key */
  struct image_area area;         /* where applications run (the primary slot) */
  struct image_area slot;         /* where uploads go (the staging slot; single: primary) */
  uint32_t erased;                /* bit n: sector n erased during this upload */
  uint32_t seq;                   /* the sequence number the new record takes */
  const struct flash_dev *flash;
  bool active;
  bool erase_started;             /* first sector erased: the old application is gone */
  const char *protocol;
  char peer[48];
  uint32_t expected;              /* announced size, 0 when unknown */
  uint32_t received;              /* bytes accepted so far */
  uint32_t crc;                   /* CRC-32 of the bytes accepted so far */
  uint32_t crc_body;              /* CRC-32 of those after the head */
  uint8_t head[IAP_WRITER_HEAD_BYTES];
  uint8_t tail[4];                /* bytes waiting for a whole word */
  unsigned tail_len;
  unsigned next_progress;         /* next progress step to log (tenths, or 64 KiB units) */
};

/* The writer programs area through flash (which must outlive it): one slot, records written
 * (the `integrity` default). */
void iap_writer_init(struct iap_writer *w, const struct image_area *area,
                     const struct flash_dev *flash);
/* The same under a policy (copied; policy->key must outlive the writer). */
void iap_writer_init_policy(struct iap_writer *w, const struct iap_policy *policy,
                            const struct flash_dev *flash);
/* The largest file an upload may be (image and trailer). */
uint32_t iap_writer_capacity(const struct iap_writer *w);

enum iap_status iap_writer_begin(struct iap_writer *w, const char *protocol, const char *peer,
                                 uint32_t expected_size, struct iap_error *err);
enum iap_status iap_writer_write(struct iap_writer *w, const uint8_t *data, size_t len,
                                 struct iap_error *err);
enum iap_status iap_writer_finish(struct iap_writer *w, struct iap_result *result,
                                  struct iap_error *err);
void iap_writer_abort(struct iap_writer *w, const char *why);

bool iap_writer_busy(const struct iap_writer *w);

/* The writer as an image sink; ctx is the struct iap_writer. */
extern const struct image_sink_ops iap_writer_sink_ops;

#endif
