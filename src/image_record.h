/*
 * The commit record and the signed-image trailer: byte formats and their parsers, pure
 * functions over bytes (no flash), so a fuzz target and the unit tests reach every branch.
 *
 * THE COMMIT RECORD (64 bytes, little-endian words) sits at the start of the last
 * IAP_SLOT_META_BYTES of a slot (iap_layout.h). The flash writer writes it last, once the
 * image is programmed and read back; the boot decision trusts an image only through it.
 *
 *    0  magic        0x52504149 ("IAPR")
 *    4  version      u16 = 1, then u16 size = 64
 *    8  image_addr   first byte of the image: the slot's own base address
 *   12  image_len    bytes of the image (what is hashed and run)
 *   16  trailer_len  bytes of the signed-image trailer stored right after it, 0: none
 *   20  seq          sequence number: one more than any record on the chip at upload time
 *   24  sha256       SHA-256 of the image_len bytes at image_addr
 *   56  crc32        CRC-32 (crc32.h) of bytes 0..55
 *   60  commit       0x544D4D43 ("CMMT")
 *
 * Why no torn operation leaves a record that looks valid for an image that is not complete:
 *  - the writer programs bytes 0..59 in one program call, reads them back, and only then
 *    programs the commit word in a call of its own. A record is valid only when the magic,
 *    version, size, CRC-32 and commit word all match exactly. A program call cut short leaves
 *    a prefix of its words programmed, at most one word with only some of its 1->0 bits, and
 *    the rest erased (0xFFFFFFFF): a cut in the body leaves the commit word erased, and a cut
 *    in the commit word leaves it with some bit still 1, so it differs from 0x544D4D43 (whose
 *    every 0 bit must have been programmed). The commit word is programmed only after the
 *    whole image and the record body were read back equal, so a valid commit word proves that
 *    everything before it completed.
 *  - a stale record (from an image that was there before) binds image_addr, image_len and the
 *    SHA-256 of exactly the bytes it was written for: it validates only those bytes, i.e. the
 *    complete old image, never a partial new one. The writer erases the record's sector before
 *    it erases or programs any byte of the new image, so no stale record exists while an
 *    upload is under way; a torn erase of that sector may leave stale bytes, which the CRC-32,
 *    the commit word and the hash binding still judge as above.
 *  - erased flash (all 0xFF) is "no record"; any other failing record is "invalid" and is
 *    treated as no record. Lengths and addresses are checked against the slot before
 *    anything is read through them, so a record never sends a reader out of its slot.
 *
 * THE TRAILER of a signed image (iapd-image sign) follows the raw image in the uploaded file:
 *
 *   image || TLV... || footer
 *   TLV:    u8 type, u8 0, u16 length, value (length bytes)
 *             0x01 key id (8 bytes), 0x10 SHA-256 of the image (32), 0x22 ECDSA P-256 (r || s,
 *             64); unknown types are skipped
 *   footer: u32 magic 0x53504149 ("IAPS"), u32 image_len, u16 tlv_len, u8 version = 1, u8 0
 *
 * A file ends in a trailer when its last 12 bytes are a footer and image_len + tlv_len + 12
 * is the file's length. The trailer is stored in flash after the image and never run.
 */
#ifndef IAPD_IMAGE_RECORD_H
#define IAPD_IMAGE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iap_crypto.h"

#define IAP_RECORD_MAGIC     0x52504149u  /* "IAPR" */
#define IAP_RECORD_VERSION   1u
#define IAP_RECORD_BYTES     64u
#define IAP_RECORD_BODY      60u          /* programmed first: all but the commit word */
#define IAP_RECORD_COMMIT    0x544D4D43u  /* "CMMT" */

#define IAP_TRAILER_MAGIC    0x53504149u  /* "IAPS" */
#define IAP_TRAILER_VERSION  1u
#define IAP_TRAILER_FOOTER   12u
#define IAP_TRAILER_MAX      256u         /* TLVs and footer: larger is not ours */
#define IAP_TLV_KEY_ID       0x01u
#define IAP_TLV_SHA256       0x10u
#define IAP_TLV_ECDSA_P256   0x22u

struct iap_record {
  uint32_t image_addr;
  uint32_t image_len;
  uint32_t trailer_len;
  uint32_t seq;
  uint8_t sha256[IAP_SHA256_BYTES];
};

enum iap_record_state {
  IAP_RECORD_VALID,
  IAP_RECORD_NONE,      /* erased */
  IAP_RECORD_INVALID,   /* torn, corrupted, or not ours: treated as no record */
};

/* The 64 bytes of a record, CRC-32 and commit word included. */
void iap_record_encode(const struct iap_record *r, uint8_t out[IAP_RECORD_BYTES]);

/* Parses the 64 bytes read from a slot whose image area is [slot_base, slot_base +
 * capacity). VALID only when every field checks and the image and trailer lie inside the
 * area; otherwise why says what is wrong (why may be NULL). */
enum iap_record_state iap_record_decode(const uint8_t in[IAP_RECORD_BYTES], uint32_t slot_base,
                                        uint32_t capacity, struct iap_record *r, char *why,
                                        size_t why_size);

struct iap_trailer {
  uint32_t image_len;
  uint32_t trailer_len;             /* TLVs + footer */
  bool has_sha256, has_key_id, has_signature;
  uint8_t sha256[IAP_SHA256_BYTES];
  uint8_t key_id[IAP_KEY_ID_BYTES];
  uint8_t signature[IAP_P256_SIG_BYTES];
};

/* Reads a footer (the last 12 bytes of a file of file_len bytes). True when it is one and its
 * lengths add up to file_len; then image_len and trailer_len are set. */
bool iap_trailer_footer(const uint8_t footer[IAP_TRAILER_FOOTER], uint32_t file_len,
                        uint32_t *image_len, uint32_t *trailer_len);

/* Parses a whole trailer (TLVs and footer, len bytes) of an image of image_len bytes. False
 * with a sentence in why for a malformed one; never reads outside buf[0, len). */
bool iap_trailer_parse(const uint8_t *buf, size_t len, uint32_t image_len,
                       struct iap_trailer *t, char *why, size_t why_size);

/* Writes a trailer for an image into out (at most IAP_TRAILER_MAX bytes); returns its length.
 * The host tool's encoder, here so the parser's tests use the same code. */
size_t iap_trailer_encode(uint32_t image_len, const uint8_t sha256[IAP_SHA256_BYTES],
                          const uint8_t key_id[IAP_KEY_ID_BYTES],
                          const uint8_t signature[IAP_P256_SIG_BYTES], uint8_t *out);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void iap_hex(const uint8_t *bytes, size_t len, char *out);

#endif
