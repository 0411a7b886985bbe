/*
 * Where an upload's bytes go. Protocol servers (TFTP, HTTP) stream into a sink and know
 * nothing of flash; the production sink is the flash writer (iap_writer.h), tests use a
 * memory sink. Every call reports failure as a status plus a sentence for the client.
 */
#ifndef IAPD_IMAGE_SINK_H
#define IAPD_IMAGE_SINK_H

#include <stddef.h>
#include <stdint.h>

enum iap_status {
  IAP_OK = 0,
  IAP_ERR_INVALID_IMAGE,  /* not an application for this board / this address */
  IAP_ERR_TOO_LARGE,      /* does not fit the user area */
  IAP_ERR_FLASH,          /* the flash refused or read back wrong */
  IAP_ERR_BUSY,           /* another upload owns the flash */
  IAP_ERR_STATE,          /* call out of order (a bug in the caller) */
  IAP_ERR_STORAGE,        /* the flash cannot keep an image (iapd: its file is gone) */
};

struct iap_error {
  enum iap_status status;
  char message[200];
};

struct iap_result {
  uint32_t size;      /* bytes of the image */
  uint32_t crc32;     /* CRC-32 of the image as read back from flash */
};

struct image_sink_ops {
  /* Starts an upload from `peer` (for log lines) over `protocol`; expected_size is 0 when the
   * protocol does not announce it. */
  enum iap_status (*begin)(void *ctx, const char *protocol, const char *peer,
                           uint32_t expected_size, struct iap_error *err);
  enum iap_status (*write)(void *ctx, const uint8_t *data, size_t len, struct iap_error *err);
  /* The last byte arrived: commit, or say why not. */
  enum iap_status (*finish)(void *ctx, struct iap_result *result, struct iap_error *err);
  /* The upload ends without commit; `why` goes to the log. Safe to call when not started. */
  void (*abort)(void *ctx, const char *why);
};

#endif
