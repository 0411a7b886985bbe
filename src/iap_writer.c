/* The flash writer (see iap_writer.h for what it promises). */
#include "iap_writer.h"

#include <stdarg.h>
#include <string.h>

#include "crc32.h"
#include "flash.h"
#include "iap_format.h"
#include "log.h"
#include "stm32f407.h"

#define PROGRESS_UNKNOWN_STEP (64u * 1024u)  /* log every 64 KiB when the size is not known */
#define VERIFY_CHUNK 256u

static void fail(struct iap_error *err, enum iap_status status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void fail(struct iap_error *err, enum iap_status status, const char *fmt, ...)
{
  va_list ap;
  err->status = status;
  va_start(ap, fmt);
  iap_vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

static uint32_t capacity(const struct iap_writer *w)
{
  return w->area.end - w->area.base;
}

void iap_writer_init(struct iap_writer *w, const struct image_area *area,
                     const struct flash_dev *flash)
{
  memset(w, 0, sizeof(*w));
  w->area = *area;
  w->flash = flash;
  w->erased_through = -1;
}

bool iap_writer_busy(const struct iap_writer *w)
{
  return w->active;
}

/* Ends the upload after an error; what is in flash is what the error left. */
static enum iap_status stop(struct iap_writer *w, struct iap_error *err)
{
  log_err("flash", "%s upload from %s refused: %s", w->protocol, w->peer, err->message);
  if (w->erase_started)
    log_warn("flash", "no application in flash now: the board stays in IAP mode at reset");
  else
    log_info("flash", "flash unchanged");
  w->active = false;
  return err->status;
}

enum iap_status iap_writer_begin(struct iap_writer *w, const char *protocol, const char *peer,
                                 uint32_t expected_size, struct iap_error *err)
{
  if (w->active) {
    fail(err, IAP_ERR_BUSY, "board busy: a %s upload from %s is in progress", w->protocol,
         w->peer);
    return err->status;
  }
  enum flash_result fr = flash_sync(w->flash);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_STORAGE, "upload refused: %s", flash_result_str(fr));
    log_err("flash", "%s upload from %s refused: %s", protocol, peer, err->message);
    return err->status;
  }
  if (expected_size > capacity(w)) {
    fail(err, IAP_ERR_TOO_LARGE,
         "image too large: %u bytes, the user flash 0x%08x-0x%08x holds %u bytes",
         (unsigned)expected_size, (unsigned)w->area.base, (unsigned)(w->area.end - 1),
         (unsigned)capacity(w));
    log_err("flash", "%s upload from %s refused: %s", protocol, peer, err->message);
    return err->status;
  }
  w->active = true;
  w->erase_started = false;
  w->protocol = protocol;
  iap_snprintf(w->peer, sizeof(w->peer), "%s", peer);
  w->expected = expected_size;
  w->received = 0;
  w->crc = 0;
  w->erased_through = stm32_flash_sector_of(w->area.base) - 1;
  w->tail_len = 0;
  w->next_progress = 1;
  return IAP_OK;
}

/* Erases every sector up to the one holding user-area offset `last`. */
static enum iap_status erase_through(struct iap_writer *w, uint32_t last, struct iap_error *err)
{
  int target = stm32_flash_sector_of(w->area.base + last);
  while (w->erased_through < target) {
    unsigned s = (unsigned)(w->erased_through + 1);
    enum flash_result fr = flash_erase_sector(w->flash, s);
    if (fr != FLASH_OK) {
      fail(err, IAP_ERR_FLASH, "flash erase of sector %u (0x%08x) failed: %s", s,
           (unsigned)stm32_flash_sector_base(s), flash_result_str(fr));
      return err->status;
    }
    w->erase_started = true;
    w->erased_through = (int)s;
    log_debug("flash", "erased sector %u (0x%08x, %u KiB)", s,
              (unsigned)stm32_flash_sector_base(s),
              (unsigned)(stm32_flash_sector_size(s) / 1024u));
  }
  return IAP_OK;
}

/* Programs len bytes at user-area offset `off` and reads them back. */
static enum iap_status program_verified(struct iap_writer *w, uint32_t off, const uint8_t *data,
                                        uint32_t len, struct iap_error *err)
{
  uint32_t addr = w->area.base + off;
  enum flash_result fr;

  if (len == 0)
    return IAP_OK;
  if (erase_through(w, off + len - 1, err) != IAP_OK)
    return err->status;
  fr = flash_program(w->flash, addr, data, len);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_FLASH, "flash program at 0x%08x failed: %s", (unsigned)addr,
         flash_result_str(fr));
    return err->status;
  }
  for (uint32_t done = 0; done < len;) {
    uint8_t back[VERIFY_CHUNK];
    uint32_t n = len - done < VERIFY_CHUNK ? len - done : VERIFY_CHUNK;
    fr = flash_read(w->flash, addr + done, back, n);
    if (fr != FLASH_OK) {
      fail(err, IAP_ERR_FLASH, "flash read at 0x%08x failed: %s", (unsigned)(addr + done),
           flash_result_str(fr));
      return err->status;
    }
    /* memcmp first, the byte that differs only on failure: a byte loop here cost more than
     * programming did. */
    if (memcmp(back, data + done, n) != 0) {
      uint32_t i = 0;
      while (back[i] == data[done + i])
        i++;
      fail(err, IAP_ERR_FLASH,
           "flash verify failed at 0x%08x: wrote 0x%02x, read back 0x%02x (sector not erased?)",
           (unsigned)(addr + done + i), data[done + i], back[i]);
      return err->status;
    }
    done += n;
  }
  return IAP_OK;
}

static void log_progress(struct iap_writer *w)
{
  if (w->expected) {
    /* received <= capacity <= 1 MiB, so received * 10 fits 32 bits: no 64-bit division (and
     * no 700-byte libgcc routine in the firmware). */
    unsigned tenths = (unsigned)(w->received * 10u / w->expected);
    if (tenths >= 10)
      return;  /* 100 % is the "done" line */
    while (w->next_progress <= tenths) {
      log_info("flash", "%s: %u%% (%u of %u bytes)", w->protocol, w->next_progress * 10u,
               (unsigned)w->received, (unsigned)w->expected);
      w->next_progress = tenths + 1;
    }
  } else if (w->received >= w->next_progress * PROGRESS_UNKNOWN_STEP) {
    log_info("flash", "%s: %u KiB written", w->protocol, (unsigned)(w->received / 1024u));
    w->next_progress = w->received / PROGRESS_UNKNOWN_STEP + 1;
  }
}

/* Accepts the head (first 8 bytes); once complete, checks it and erases the first sector. */
static enum iap_status take_head(struct iap_writer *w, const uint8_t **data, size_t *len,
                                 struct iap_error *err)
{
  size_t take = IAP_WRITER_HEAD_BYTES - w->received;
  if (take > *len)
    take = *len;
  memcpy(w->head + w->received, *data, take);
  w->received += (uint32_t)take;
  *data += take;
  *len -= take;
  if (w->received < IAP_WRITER_HEAD_BYTES)
    return IAP_OK;
  if (!image_check_vectors(&w->area, image_le32(w->head), image_le32(w->head + 4),
                           err->message, sizeof(err->message))) {
    err->status = IAP_ERR_INVALID_IMAGE;
    return err->status;
  }
  log_info("flash", "%s: image for 0x%08x (MSP 0x%08x, reset 0x%08x), erasing as it arrives",
           w->protocol, (unsigned)w->area.base, (unsigned)image_le32(w->head),
           (unsigned)image_le32(w->head + 4));
  return erase_through(w, 0, err);
}

enum iap_status iap_writer_write(struct iap_writer *w, const uint8_t *data, size_t len,
                                 struct iap_error *err)
{
  if (!w->active) {
    fail(err, IAP_ERR_STATE, "no upload in progress");
    return err->status;
  }
  if (len > capacity(w) - w->received) {
    fail(err, IAP_ERR_TOO_LARGE,
         "image too large: the user flash 0x%08x-0x%08x holds %u bytes",
         (unsigned)w->area.base, (unsigned)(w->area.end - 1), (unsigned)capacity(w));
    return stop(w, err);
  }
  w->crc = crc32_update(w->crc, data, len);
  if (w->received < IAP_WRITER_HEAD_BYTES && take_head(w, &data, &len, err) != IAP_OK)
    return stop(w, err);

  while (len > 0) {
    /* Whole words go straight to flash; a partial word waits in `tail` for its next bytes.
     * Offsets after the head are word aligned exactly when tail_len is 0. */
    if (w->tail_len == 0 && len >= 4) {
      uint32_t run = (uint32_t)(len & ~(size_t)3);
      if (program_verified(w, w->received, data, run, err) != IAP_OK)
        return stop(w, err);
      w->received += run;
      data += run;
      len -= run;
    } else {
      w->tail[w->tail_len++] = *data++;
      len--;
      w->received++;
      if (w->tail_len == 4) {
        w->tail_len = 0;
        if (program_verified(w, w->received - 4, w->tail, 4, err) != IAP_OK)
          return stop(w, err);
      }
    }
  }
  log_progress(w);
  return IAP_OK;
}

/* *crc continued over flash from user-area offset `from` up to `to`, as read back. */
static enum iap_status crc_of_flash(struct iap_writer *w, uint32_t from, uint32_t to,
                                    uint32_t *crc, struct iap_error *err)
{
  uint8_t buf[VERIFY_CHUNK];
  for (uint32_t off = from; off < to;) {
    uint32_t n = to - off < VERIFY_CHUNK ? to - off : VERIFY_CHUNK;
    enum flash_result fr = flash_read(w->flash, w->area.base + off, buf, n);
    if (fr != FLASH_OK) {
      fail(err, IAP_ERR_FLASH, "flash read at 0x%08x failed: %s",
           (unsigned)(w->area.base + off),
           flash_result_str(fr));
      return err->status;
    }
    *crc = crc32_update(*crc, buf, n);
    off += n;
  }
  return IAP_OK;
}

enum iap_status iap_writer_finish(struct iap_writer *w, struct iap_result *result,
                                  struct iap_error *err)
{
  uint32_t crc_flash;
  enum flash_result fr;

  if (!w->active) {
    fail(err, IAP_ERR_STATE, "no upload in progress");
    return err->status;
  }
  if (w->received < IAP_WRITER_HEAD_BYTES) {
    fail(err, IAP_ERR_INVALID_IMAGE,
         "image too small: %u bytes, an application's vector table alone takes %u",
         (unsigned)w->received, IAP_WRITER_HEAD_BYTES);
    return stop(w, err);
  }
  if (w->tail_len
      && program_verified(w, w->received - w->tail_len, w->tail, w->tail_len, err) != IAP_OK)
    return stop(w, err);
  w->tail_len = 0;
  if (!image_check_extent(&w->area, image_le32(w->head + 4), w->received, err->message,
                          sizeof(err->message))) {
    err->status = IAP_ERR_INVALID_IMAGE;
    return stop(w, err);
  }

  /* Everything but the head is in flash and was read back as it was programmed; one more
   * pass over the body proves nothing changed since: its CRC-32, continued from the head's
   * (the head is still only in RAM), must be that of the image received. Only then does the
   * image become bootable: the head goes in last, read back like every write, so the flash
   * holds exactly the image of CRC-32 w->crc without a second pass over all of it. */
  crc_flash = crc32_update(0, w->head, IAP_WRITER_HEAD_BYTES);
  if (crc_of_flash(w, IAP_WRITER_HEAD_BYTES, w->received, &crc_flash, err) != IAP_OK)
    return stop(w, err);
  if (crc_flash != w->crc) {
    fail(err, IAP_ERR_FLASH, "flash verify failed: CRC-32 of the image read back 0x%08x, "
         "received 0x%08x", (unsigned)crc_flash, (unsigned)w->crc);
    return stop(w, err);
  }
  if (program_verified(w, 0, w->head, IAP_WRITER_HEAD_BYTES, err) != IAP_OK)
    return stop(w, err);
  fr = flash_sync(w->flash);
  if (fr != FLASH_OK) {
    fail(err, IAP_ERR_STORAGE, "flash sync failed: %s", flash_result_str(fr));
    return stop(w, err);
  }
  result->size = w->received;
  result->crc32 = crc_flash;
  w->active = false;
  log_info("flash", "%s: done, %u bytes at 0x%08x, CRC-32 0x%08x", w->protocol,
           (unsigned)w->received, (unsigned)w->area.base, (unsigned)crc_flash);
  return IAP_OK;
}

void iap_writer_abort(struct iap_writer *w, const char *why)
{
  if (!w->active)
    return;
  log_warn("flash", "%s upload from %s aborted after %u bytes: %s", w->protocol, w->peer,
           (unsigned)w->received, why);
  if (w->erase_started)
    log_warn("flash", "no application in flash now: the board stays in IAP mode at reset");
  else
    log_info("flash", "flash unchanged");
  w->active = false;
}

static enum iap_status sink_begin(void *ctx, const char *protocol, const char *peer,
                                  uint32_t expected_size, struct iap_error *err)
{
  return iap_writer_begin(ctx, protocol, peer, expected_size, err);
}

static enum iap_status sink_write(void *ctx, const uint8_t *data, size_t len,
                                  struct iap_error *err)
{
  return iap_writer_write(ctx, data, len, err);
}

static enum iap_status sink_finish(void *ctx, struct iap_result *result, struct iap_error *err)
{
  return iap_writer_finish(ctx, result, err);
}

static void sink_abort(void *ctx, const char *why)
{
  iap_writer_abort(ctx, why);
}

const struct image_sink_ops iap_writer_sink_ops = {
  .begin = sink_begin,
  .write = sink_write,
  .finish = sink_finish,
  .abort = sink_abort,
};
