/* The commit record and the signed-image trailer (see image_record.h). */
#include "image_record.h"

#include <string.h>

#include "crc32.h"
#include "iap_format.h"

static void put16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
  put16(p, v);
  put16(p + 2, v >> 16);
}

static uint32_t get16(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
  return get16(p) | get16(p + 2) << 16;
}

static void say(char *why, size_t size, const char *text)
{
  if (why != NULL && size > 0)
    iap_snprintf(why, size, "%s", text);
}

void iap_record_encode(const struct iap_record *r, uint8_t out[IAP_RECORD_BYTES])
{
  put32(out, IAP_RECORD_MAGIC);
  put16(out + 4, IAP_RECORD_VERSION);
  put16(out + 6, IAP_RECORD_BYTES);
  put32(out + 8, r->image_addr);
  put32(out + 12, r->image_len);
  put32(out + 16, r->trailer_len);
  put32(out + 20, r->seq);
  memcpy(out + 24, r->sha256, IAP_SHA256_BYTES);
  put32(out + 56, crc32_update(0, out, 56));
  put32(out + 60, IAP_RECORD_COMMIT);
}

enum iap_record_state iap_record_decode(const uint8_t in[IAP_RECORD_BYTES], uint32_t slot_base,
                                        uint32_t capacity, struct iap_record *r, char *why,
                                        size_t why_size)
{
  size_t i;

  for (i = 0; i < IAP_RECORD_BYTES && in[i] == 0xFFu; i++)
    ;
  if (i == IAP_RECORD_BYTES) {
    say(why, why_size, "no record (erased)");
    return IAP_RECORD_NONE;
  }
  if (get32(in) != IAP_RECORD_MAGIC) {
    say(why, why_size, "record invalid: wrong magic");
    return IAP_RECORD_INVALID;
  }
  if (get16(in + 4) != IAP_RECORD_VERSION || get16(in + 6) != IAP_RECORD_BYTES) {
    say(why, why_size, "record invalid: unknown format version");
    return IAP_RECORD_INVALID;
  }
  if (get32(in + 56) != crc32_update(0, in, 56)) {
    say(why, why_size, "record invalid: CRC-32 mismatch (torn or corrupted)");
    return IAP_RECORD_INVALID;
  }
  if (get32(in + 60) != IAP_RECORD_COMMIT) {
    say(why, why_size, "record invalid: not committed (upload interrupted)");
    return IAP_RECORD_INVALID;
  }
  r->image_addr = get32(in + 8);
  r->image_len = get32(in + 12);
  r->trailer_len = get32(in + 16);
  r->seq = get32(in + 20);
  memcpy(r->sha256, in + 24, IAP_SHA256_BYTES);
  if (r->image_addr != slot_base) {
    say(why, why_size, "record invalid: image address is not the slot's");
    return IAP_RECORD_INVALID;
  }
  /* 8 bytes at least: the vector table's first two words. Compared by subtraction: no sum
   * can wrap. */
  if (r->image_len < 8u || r->image_len > capacity
      || r->trailer_len > capacity - r->image_len
      || (r->trailer_len != 0 && (r->trailer_len < IAP_TRAILER_FOOTER
                                  || r->trailer_len > IAP_TRAILER_MAX))) {
    say(why, why_size, "record invalid: lengths outside the slot");
    return IAP_RECORD_INVALID;
  }
  say(why, why_size, "record valid");
  return IAP_RECORD_VALID;
}

bool iap_trailer_footer(const uint8_t footer[IAP_TRAILER_FOOTER], uint32_t file_len,
                        uint32_t *image_len, uint32_t *trailer_len)
{
  uint32_t img = get32(footer + 4), tlv = get16(footer + 8);

  if (get32(footer) != IAP_TRAILER_MAGIC || footer[10] != IAP_TRAILER_VERSION
      || footer[11] != 0 || tlv > IAP_TRAILER_MAX - IAP_TRAILER_FOOTER
      || file_len < IAP_TRAILER_FOOTER + tlv || img != file_len - IAP_TRAILER_FOOTER - tlv)
    return false;
  *image_len = img;
  *trailer_len = tlv + IAP_TRAILER_FOOTER;
  return true;
}

bool iap_trailer_parse(const uint8_t *buf, size_t len, uint32_t image_len,
                       struct iap_trailer *t, char *why, size_t why_size)
{
  uint32_t img, tlen;
  size_t off = 0, end;

  memset(t, 0, sizeof(*t));
  if (len < IAP_TRAILER_FOOTER || len > IAP_TRAILER_MAX) {
    say(why, why_size, "signature trailer malformed: wrong length");
    return false;
  }
  if (!iap_trailer_footer(buf + len - IAP_TRAILER_FOOTER, image_len + (uint32_t)len, &img,
                          &tlen)
      || img != image_len || tlen != len) {
    say(why, why_size, "signature trailer malformed: bad footer");
    return false;
  }
  t->image_len = img;
  t->trailer_len = tlen;
  end = len - IAP_TRAILER_FOOTER;
  while (off < end) {
    if (end - off < 4) {
      say(why, why_size, "signature trailer malformed: truncated TLV header");
      return false;
    }
    unsigned type = buf[off];
    size_t vlen = get16(buf + off + 2);
    const uint8_t *v = buf + off + 4;
    if (buf[off + 1] != 0 || vlen > end - off - 4) {
      say(why, why_size, "signature trailer malformed: TLV runs past the trailer");
      return false;
    }
    uint8_t *dst = NULL;
    bool *seen = NULL;
    size_t want = 0;
    if (type == IAP_TLV_KEY_ID) {
      dst = t->key_id, seen = &t->has_key_id, want = IAP_KEY_ID_BYTES;
    } else if (type == IAP_TLV_SHA256) {
      dst = t->sha256, seen = &t->has_sha256, want = IAP_SHA256_BYTES;
    } else if (type == IAP_TLV_ECDSA_P256) {
      dst = t->signature, seen = &t->has_signature, want = IAP_P256_SIG_BYTES;
    }
    if (dst != NULL) {
      if (vlen != want || *seen) {
        say(why, why_size, *seen ? "signature trailer malformed: a TLV appears twice"
                                 : "signature trailer malformed: a TLV has the wrong length");
        return false;
      }
      memcpy(dst, v, want);
      *seen = true;
    }
    off += 4 + vlen;
  }
  return true;
}

static size_t put_tlv(uint8_t *out, unsigned type, const uint8_t *v, size_t len)
{
  out[0] = (uint8_t)type;
  out[1] = 0;
  put16(out + 2, (uint32_t)len);
  memcpy(out + 4, v, len);
  return 4 + len;
}

size_t iap_trailer_encode(uint32_t image_len, const uint8_t sha256[IAP_SHA256_BYTES],
                          const uint8_t key_id[IAP_KEY_ID_BYTES],
                          const uint8_t signature[IAP_P256_SIG_BYTES], uint8_t *out)
{
  size_t n = 0;
  n += put_tlv(out + n, IAP_TLV_SHA256, sha256, IAP_SHA256_BYTES);
  n += put_tlv(out + n, IAP_TLV_KEY_ID, key_id, IAP_KEY_ID_BYTES);
  n += put_tlv(out + n, IAP_TLV_ECDSA_P256, signature, IAP_P256_SIG_BYTES);
  put32(out + n, IAP_TRAILER_MAGIC);
  put32(out + n + 4, image_len);
  put16(out + n + 8, (uint32_t)n);
  out[n + 10] = IAP_TRAILER_VERSION;
  out[n + 11] = 0;
  return n + IAP_TRAILER_FOOTER;
}

void iap_hex(const uint8_t *bytes, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15u];
  }
  out[2 * len] = '\0';
}
