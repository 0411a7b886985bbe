/*
 * libFuzzer target: the commit record and the signed-image trailer parsers
 * (src/image_record.h), the two decoders that read what an upload or a torn write left in
 * flash. Input: the whole file is an uploaded file, its last 12 bytes the trailer's footer;
 * its first 64 bytes (when there are that many) are also a record read from a slot.
 *
 * Checks, beyond no crash and no sanitizer report (every buffer is an exact-size copy, so
 * a read past it is ASan's):
 *   - a record is valid only inside its slot: address the slot's, at least 8 bytes of image,
 *     image and trailer within the capacity; a valid record encodes back to the same 64
 *     bytes; no proper prefix of it, the rest erased (a torn program), is valid;
 *   - a footer accepted for a file adds up to the file's length, within IAP_TRAILER_MAX;
 *   - a trailer parsed whole has the footer's lengths, and one holding the three TLVs the
 *     host tool writes parses back the same after iap_trailer_encode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOT_BASE 0x08010000u
#define SLOT_CAPACITY 982912u  /* the single slot: 0x08010000-0x080fff7f */

static uint8_t *copy(const uint8_t *data, size_t size)
{
  uint8_t *p = malloc(size ? size : 1);
  if (p == NULL)
    abort();
  memcpy(p, data, size);
  return p;
}

static void check_record(const uint8_t *data, uint32_t base, uint32_t capacity)
{
  uint8_t *in = copy(data, IAP_RECORD_BYTES), again[IAP_RECORD_BYTES];
  struct iap_record r;
  char why[96];

  if (iap_record_decode(in, base, capacity, &r, why, sizeof(why)) == IAP_RECORD_VALID) {
    if (r.image_addr != base || r.image_len < 8u || r.image_len > capacity
        || r.trailer_len > capacity - r.image_len)
      abort();
    iap_record_encode(&r, again);
    if (memcmp(again, in, IAP_RECORD_BYTES) != 0)
      abort();
    for (size_t k = 0; k < IAP_RECORD_BYTES; k++) {
      uint8_t torn[IAP_RECORD_BYTES];
      struct iap_record t;
      memcpy(torn, in, k);
      memset(torn + k, 0xFF, IAP_RECORD_BYTES - k);
      if (iap_record_decode(torn, base, capacity, &t, NULL, 0) == IAP_RECORD_VALID)
        abort();
    }
  }
  free(in);
}

static void check_trailer(const uint8_t *data, size_t size)
{
  uint32_t img, tlen;
  struct iap_trailer t, back;
  char why[96];

  if (size < IAP_TRAILER_FOOTER || size > UINT32_MAX)
    return;
  uint8_t *footer = copy(data + size - IAP_TRAILER_FOOTER, IAP_TRAILER_FOOTER);
  bool found = iap_trailer_footer(footer, (uint32_t)size, &img, &tlen);
  free(footer);
  if (!found)
    return;
  if (tlen < IAP_TRAILER_FOOTER || tlen > IAP_TRAILER_MAX || (size_t)img + tlen != size)
    abort();
  uint8_t *buf = copy(data + img, tlen);
  if (iap_trailer_parse(buf, tlen, img, &t, why, sizeof(why))) {
    if (t.image_len != img || t.trailer_len != tlen)
      abort();
    if (t.has_sha256 && t.has_key_id && t.has_signature) {
      uint8_t out[IAP_TRAILER_MAX];
      size_t n = iap_trailer_encode(img, t.sha256, t.key_id, t.signature, out);
      uint8_t *exact = copy(out, n);
      if (!iap_trailer_parse(exact, n, img, &back, NULL, 0) || back.image_len != img
          || memcmp(back.sha256, t.sha256, sizeof(t.sha256)) != 0
          || memcmp(back.key_id, t.key_id, sizeof(t.key_id)) != 0
          || memcmp(back.signature, t.signature, sizeof(t.signature)) != 0)
        abort();
      free(exact);
    }
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct iap_trailer t;

  if (size >= IAP_RECORD_BYTES) {
    check_record(data, SLOT_BASE, SLOT_CAPACITY);
    /* A small slot, so that lengths near its end are reachable. */
    check_record(data, SLOT_BASE, 0x4000u);
  }
  check_trailer(data, size);
  /* The whole input as a trailer of any length, the image length from its first bytes. */
  if (size >= 4) {
    uint8_t *buf = copy(data, size);
    uint32_t img = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16
                   | (uint32_t)data[3] << 24;
    (void)iap_trailer_parse(buf, size, img, &t, NULL, 0);
    free(buf);
  }
  return 0;
}
