/*
 * What a verified boot costs on the host: the boot-time inspection of a slot holding a
 * 960 KiB image (iap_slot_inspect, the code iapd and the firmware run at reset), under
 * integrity (its commit record and one SHA-256 pass over the image read through the flash
 * interface) and under signature (that and one ECDSA P-256 verification), and SHA-256 alone
 * over the same bytes in RAM. The image is signed with iapd-image's code and committed with
 * the writer's record code on an emulated flash in memory.
 *
 *   bench/verify_cost PRIVATE-KEY PUBLIC-KEY [RUNS]
 *
 * Prints the median of RUNS (default 21) runs of each, in ms, and ns per byte. (The silicon
 * estimate is in man iapd, IMAGE RECORDS AND SLOTS: it comes from the firmware's
 * instructions, not from this program.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flash.h"
#include "flash_model.h"
#include "flash_model_dev.h"
#include "iap_crypto.h"
#include "iap_slots.h"
#include "image_record.h"
#include "image_tool.h"
#include "signing_key.h"
#include "stm32f407.h"

#define USER_BASE 0x08010000u
#define USER_END 0x08100000u

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return v[n / 2];
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s PRIVATE-KEY PUBLIC-KEY [RUNS]\n", argv[0]);
    return 2;
  }
  int runs = argc > 3 ? atoi(argv[3]) : 21;
  if (runs < 1 || runs > 1000)
    runs = 21;

  /* A 960 KiB application less room for its trailer and the slot's record area. */
  const struct image_area user = { USER_BASE, USER_END };
  struct iap_layout layout;
  iap_layout_init(&layout, IAP_SLOTS_SINGLE, &user);
  uint32_t image_len = 960u * 1024u - 128u - IAP_TRAILER_MAX;
  uint8_t *img = malloc(image_len);
  if (img == NULL)
    return 1;
  for (uint32_t i = 0; i < image_len; i++)
    img[i] = (uint8_t)(i * 2654435761u >> 24);
  static const uint8_t vectors[8] = { 0x00, 0x00, 0x02, 0x20, 0xc9, 0x01, 0x01, 0x08 };
  memcpy(img, vectors, sizeof(vectors));

  char in[] = "/tmp/verify_cost.XXXXXX";
  int fd = mkstemp(in);
  if (fd < 0 || write(fd, img, image_len) != (ssize_t)image_len) {
    perror("verify_cost: temporary image");
    return 1;
  }
  close(fd);
  char out[sizeof(in) + 8];
  snprintf(out, sizeof(out), "%s.signed", in);
  FILE *null = fopen("/dev/null", "w");
  int rc = image_tool_sign(argv[1], in, out, null, stderr);
  unlink(in);
  if (rc != 0)
    return 1;
  FILE *f = fopen(out, "rb");
  uint8_t *file = malloc(image_len + IAP_TRAILER_MAX);
  size_t file_len = f != NULL ? fread(file, 1, image_len + IAP_TRAILER_MAX, f) : 0;
  if (f != NULL)
    fclose(f);
  unlink(out);

  uint8_t *mem = malloc(STM32_FLASH_SIZE);
  struct flash_model model;
  struct flash_model_dev dev_model;
  memset(mem, STM32_FLASH_ERASED_BYTE, STM32_FLASH_SIZE);
  flash_model_init(&model, mem, 0x0Fu);
  const struct flash_dev *dev = flash_model_dev_init(&dev_model, &model, NULL, NULL);
  if (flash_program(dev, USER_BASE, file, (uint32_t)file_len) != FLASH_OK)
    return 1;
  struct iap_record rec = { .image_addr = USER_BASE, .image_len = image_len,
                            .trailer_len = (uint32_t)file_len - image_len, .seq = 1 };
  iap_sha256(img, image_len, rec.sha256);
  if (iap_record_write(dev, iap_slot_meta_addr(&layout.primary), &rec) != FLASH_OK)
    return 1;

  struct iap_pubkey key;
  char why[256];
  if (!signing_key_load(argv[2], &key, why, sizeof(why))) {
    fprintf(stderr, "verify_cost: %s\n", why);
    return 1;
  }

  double *t = calloc((size_t)runs, sizeof(double));
  struct iap_slot_status st;
  uint8_t digest[IAP_SHA256_BYTES];
  static const enum iap_verify levels[2] = { IAP_VERIFY_INTEGRITY, IAP_VERIFY_SIGNATURE };
  double ms[3];
  for (int l = 0; l < 2; l++) {
    for (int r = 0; r < runs; r++) {
      double t0 = now_ms();
      iap_slot_inspect(dev, &layout.primary, &layout.primary, levels[l], &key, &st);
      t[r] = now_ms() - t0;
      if (st.content != IAP_SLOT_VERIFIED) {
        fprintf(stderr, "verify_cost: the slot does not verify: %s\n", st.detail);
        return 1;
      }
    }
    ms[l] = median(t, runs);
  }
  for (int r = 0; r < runs; r++) {
    double t0 = now_ms();
    iap_sha256(img, image_len, digest);
    t[r] = now_ms() - t0;
  }
  ms[2] = median(t, runs);

  printf("verify_cost: %u-byte image (960 KiB less the record area and a trailer's room), "
         "median of %d runs\n", (unsigned)image_len, runs);
  printf("  integrity (record, SHA-256 through the flash interface): %8.2f ms  %5.2f ns/byte\n",
         ms[0], ms[0] * 1e6 / image_len);
  printf("  signature (the same and ECDSA P-256):                    %8.2f ms  (ECDSA %.2f ms)\n",
         ms[1], ms[1] - ms[0]);
  printf("  SHA-256 alone, from RAM (mbed TLS %s):                %8.2f ms  %5.2f ns/byte\n",
         "2.28", ms[2], ms[2] * 1e6 / image_len);
  free(t);
  free(mem);
  free(file);
  free(img);
  if (null != NULL)
    fclose(null);
  return 0;
}
