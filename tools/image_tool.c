/* iapd-image's commands (see image_tool.h): keys and signatures with mbed TLS, the trailer
 * with src/image_record.c, the same parser the board runs. */
#include "image_tool.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iap_crypto.h"
#include "image_record.h"
#include "signing_key.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"

#define MAX_FILE (16u * 1024u * 1024u)  /* far more than any STM32F407 image */

/* Reads a whole file; NULL after saying why. */
static uint8_t *read_file(const char *path, size_t *len, FILE *err)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;

  if (f == NULL) {
    fprintf(err, "iapd-image: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      cap = cap ? 2 * cap : 65536;
      uint8_t *grown = cap <= 2 * MAX_FILE ? realloc(buf, cap) : NULL;
      if (grown == NULL) {
        fprintf(err, "iapd-image: %s: too large or out of memory\n", path);
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f) || n > MAX_FILE) {
    fprintf(err, "iapd-image: %s: %s\n", path, ferror(f) ? strerror(errno) : "too large");
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *len = n;
  return buf;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode, FILE *err)
{
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(err, "iapd-image: cannot write %s: %s\n", path, strerror(errno));
    if (f != NULL)
      remove(path);
    return 1;
  }
  if (chmod(path, mode) != 0) {
    fprintf(err, "iapd-image: cannot set the mode of %s: %s\n", path, strerror(errno));
    return 1;
  }
  return 0;
}

struct rng {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
};

static int rng_open(struct rng *r, FILE *err)
{
  static const char personal[] = "iapd-image";
  mbedtls_entropy_init(&r->entropy);
  mbedtls_ctr_drbg_init(&r->drbg);
  if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                            (const unsigned char *)personal, sizeof(personal) - 1) != 0) {
    fprintf(err, "iapd-image: no entropy source for the random number generator\n");
    return 1;
  }
  return 0;
}

static void rng_close(struct rng *r)
{
  mbedtls_ctr_drbg_free(&r->drbg);
  mbedtls_entropy_free(&r->entropy);
}

int image_tool_keygen(const char *private_path, const char *public_path, FILE *out, FILE *err)
{
  mbedtls_pk_context pk;
  struct rng rng;
  unsigned char pem[1024];
  struct iap_pubkey key;
  char id[2 * IAP_KEY_ID_BYTES + 1], why[600];
  int rc = 1;

  mbedtls_pk_init(&pk);
  if (rng_open(&rng, err) != 0)
    goto done;
  if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0
      || mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk),
                             mbedtls_ctr_drbg_random, &rng.drbg) != 0) {
    fprintf(err, "iapd-image: key generation failed\n");
    goto done;
  }
  if (mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem)) != 0
      || write_file(private_path, pem, strlen((char *)pem), 0600, err) != 0)
    goto done;
  if (mbedtls_pk_write_pubkey_pem(&pk, pem, sizeof(pem)) != 0
      || write_file(public_path, pem, strlen((char *)pem), 0644, err) != 0)
    goto done;
  if (!signing_key_load(public_path, &key, why, sizeof(why))) {
    fprintf(err, "iapd-image: %s\n", why);
    goto done;
  }
  iap_hex(key.id, IAP_KEY_ID_BYTES, id);
  fprintf(out, "private key %s, public key %s: ECDSA P-256, key id %s\n", private_path,
          public_path, id);
  rc = 0;
done:
  mbedtls_pk_free(&pk);
  rng_close(&rng);
  return rc;
}

/* The file's image part: all of it, or what comes before its trailer. */
static bool split(const uint8_t *buf, size_t len, uint32_t *image_len, struct iap_trailer *t,
                  char *why, size_t why_size)
{
  uint32_t img, tlen;
  if (len >= IAP_TRAILER_FOOTER
      && iap_trailer_footer(buf + len - IAP_TRAILER_FOOTER, (uint32_t)len, &img, &tlen)) {
    *image_len = img;
    return iap_trailer_parse(buf + img, tlen, img, t, why, why_size);
  }
  memset(t, 0, sizeof(*t));
  *image_len = (uint32_t)len;
  return true;
}

int image_tool_sign(const char *key_path, const char *in_path, const char *out_path, FILE *out,
                    FILE *err)
{
  mbedtls_pk_context pk;
  mbedtls_mpi r, s;
  struct rng rng;
  struct iap_pubkey pub;
  struct iap_trailer t;
  uint8_t digest[IAP_SHA256_BYTES], sig[IAP_P256_SIG_BYTES], trailer[IAP_TRAILER_MAX];
  char hex[2 * IAP_SHA256_BYTES + 1], id[2 * IAP_KEY_ID_BYTES + 1], why[128];
  size_t len = 0, olen = 0;
  uint32_t image_len;
  int rc = 1;
  uint8_t *buf = read_file(in_path, &len, err);

  mbedtls_pk_init(&pk);
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  memset(&rng, 0, sizeof(rng));
  if (buf == NULL || rng_open(&rng, err) != 0)
    goto done;
  if (len < 8) {
    fprintf(err, "iapd-image: %s: %zu bytes is not an image (the vector table alone takes 8)\n",
            in_path, len);
    goto done;
  }
  if (!split(buf, len, &image_len, &t, why, sizeof(why)) || image_len != len) {
    fprintf(err, "iapd-image: %s: already ends in a signature trailer; sign the raw image\n",
            in_path);
    goto done;
  }
  if (mbedtls_pk_parse_keyfile(&pk, key_path, NULL) != 0
      || mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY
      || mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    fprintf(err, "iapd-image: %s: not an ECDSA P-256 private key (iapd-image keygen writes "
            "one)\n", key_path);
    goto done;
  }
  mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
  if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                     pub.point, sizeof(pub.point)) != 0
      || !iap_pubkey_init(&pub)) {
    fprintf(err, "iapd-image: %s: the key's public point is not valid\n", key_path);
    goto done;
  }
  iap_sha256(buf, len, digest);
  /* Deterministic ECDSA (RFC 6979): the same image and key give the same bytes. */
  if (mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, digest, sizeof(digest),
                                 MBEDTLS_MD_SHA256, mbedtls_ctr_drbg_random, &rng.drbg) != 0
      || mbedtls_mpi_write_binary(&r, sig, 32) != 0
      || mbedtls_mpi_write_binary(&s, sig + 32, 32) != 0) {
    fprintf(err, "iapd-image: signing failed\n");
    goto done;
  }
  size_t tlen = iap_trailer_encode((uint32_t)len, digest, pub.id, sig, trailer);
  uint8_t *signed_file = malloc(len + tlen);
  if (signed_file == NULL) {
    fprintf(err, "iapd-image: out of memory\n");
    goto done;
  }
  memcpy(signed_file, buf, len);
  memcpy(signed_file + len, trailer, tlen);
  rc = write_file(out_path, signed_file, len + tlen, 0644, err);
  free(signed_file);
  if (rc == 0) {
    iap_hex(digest, sizeof(digest), hex);
    iap_hex(pub.id, IAP_KEY_ID_BYTES, id);
    fprintf(out, "%s: %zu-byte image, SHA-256 %s, signed with key id %s; %s: %zu bytes\n",
            in_path, len, hex, id, out_path, len + tlen);
  }
done:
  mbedtls_mpi_free(&s);
  mbedtls_mpi_free(&r);
  mbedtls_pk_free(&pk);
  rng_close(&rng);
  free(buf);
  return rc;
}

int image_tool_verify(const char *key_path, const char *path, FILE *out, FILE *err)
{
  struct iap_pubkey key;
  struct iap_trailer t;
  uint8_t digest[IAP_SHA256_BYTES];
  char why[600], have[2 * IAP_KEY_ID_BYTES + 1], want[2 * IAP_KEY_ID_BYTES + 1];
  size_t len = 0;
  uint32_t image_len;
  int rc = 1;
  uint8_t *buf = read_file(path, &len, err);

  if (buf == NULL)
    return 1;
  if (!signing_key_load(key_path, &key, why, sizeof(why))) {
    fprintf(err, "iapd-image: %s\n", why);
    goto done;
  }
  iap_hex(key.id, IAP_KEY_ID_BYTES, want);
  if (!split(buf, len, &image_len, &t, why, sizeof(why))) {
    fprintf(err, "iapd-image: %s: %s\n", path, why);
    goto done;
  }
  if (!t.has_signature || !t.has_key_id || !t.has_sha256) {
    fprintf(err, "iapd-image: %s: not signed (no signature trailer)\n", path);
    goto done;
  }
  iap_sha256(buf, image_len, digest);
  iap_hex(t.key_id, IAP_KEY_ID_BYTES, have);
  if (memcmp(digest, t.sha256, sizeof(digest)) != 0) {
    fprintf(err, "iapd-image: %s: SHA-256 of the %u-byte image is not the trailer's: the "
            "image was changed after signing\n", path, (unsigned)image_len);
  } else if (memcmp(t.key_id, key.id, IAP_KEY_ID_BYTES) != 0) {
    fprintf(err, "iapd-image: %s: signed with another key: key id %s, %s is %s\n", path, have,
            key_path, want);
  } else if (!iap_ecdsa_p256_verify(&key, digest, t.signature)) {
    fprintf(err, "iapd-image: %s: signature does not verify with key id %s\n", path, want);
  } else {
    fprintf(out, "%s: signature good: %u-byte image, key id %s\n", path, (unsigned)image_len,
            want);
    rc = 0;
  }
done:
  free(buf);
  return rc;
}

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int image_tool_info(const char *path, FILE *out, FILE *err)
{
  struct iap_trailer t;
  uint8_t digest[IAP_SHA256_BYTES];
  char hex[2 * IAP_SHA256_BYTES + 1], why[128];
  size_t len = 0;
  uint32_t image_len;
  uint8_t *buf = read_file(path, &len, err);

  if (buf == NULL)
    return 1;
  bool ok = split(buf, len, &image_len, &t, why, sizeof(why));
  fprintf(out, "file:        %s, %zu bytes\n", path, len);
  if (!ok) {
    fprintf(out, "trailer:     %s\n", why);
    free(buf);
    return 1;
  }
  fprintf(out, "image:       %u bytes\n", (unsigned)image_len);
  if (image_len >= 8)
    fprintf(out, "vectors:     MSP 0x%08x, reset 0x%08x\n", (unsigned)le32(buf),
            (unsigned)le32(buf + 4));
  iap_sha256(buf, image_len, digest);
  iap_hex(digest, sizeof(digest), hex);
  fprintf(out, "SHA-256:     %s\n", hex);
  if (t.trailer_len == 0) {
    fprintf(out, "trailer:     none (not signed)\n");
  } else {
    fprintf(out, "trailer:     %u bytes\n", (unsigned)t.trailer_len);
    if (t.has_sha256) {
      iap_hex(t.sha256, sizeof(t.sha256), hex);
      fprintf(out, "  SHA-256:   %s (%s)\n", hex,
              memcmp(t.sha256, digest, sizeof(digest)) == 0 ? "matches" : "DIFFERS");
    }
    if (t.has_key_id) {
      iap_hex(t.key_id, sizeof(t.key_id), hex);
      fprintf(out, "  key id:    %s\n", hex);
    }
    fprintf(out, "  signature: %s\n", t.has_signature ? "ECDSA P-256" : "none");
  }
  free(buf);
  return 0;
}
