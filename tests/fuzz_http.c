/*
 * libFuzzer target: the HTTP server's protocol core, one connection after another, uploading
 * through the real flash writer into a flash model in memory. Input records:
 *   byte 0: flags (bit 0: the peer closes, a new connection starts; bit 1: poll; bits 2-7:
 *           seconds to advance)
 *   bytes 1-2: length, big-endian (cut to what is left)
 *   then the bytes the client sends.
 * Session tokens are all zeros here (the board's random op below), so a seed can hold a valid
 * cookie. Checks: no crash, no sanitizer report, nothing sent after close, every answer
 * starting with a status line, and the bootloader sectors never touched.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "flash_model.h"
#include "flash_model_dev.h"
#include "http_core.h"
#include "iap_writer.h"
#include "stm32f407.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Deterministic "random" tokens, so seeds can log in by cookie. */
static bool zero_random(void *ctx, void *buf, size_t len)
{
  (void)ctx;
  memset(buf, 0, len);
  return true;
}

static const struct board_ops fuzz_board_ops = { .random = zero_random };
static const struct board fuzz_board = { &fuzz_board_ops, NULL };

static bool closed;
static bool at_line_start;
static size_t sent;

static size_t on_send(void *ctx, const void *d, size_t n, bool copy)
{
  (void)ctx;
  (void)copy;
  if (closed)
    abort();  /* nothing after close */
  if (sent == 0 && (n < 9 || memcmp(d, "HTTP/1.1 ", 9) != 0))
    abort();  /* the first bytes of a connection are a status line */
  sent += n;
  at_line_start = false;
  return n;
}

static void on_flush(void *ctx)
{
  (void)ctx;
}

static void on_close(void *ctx, bool reset)
{
  (void)ctx;
  (void)reset;
  if (closed)
    abort();  /* closed twice */
  closed = true;
}

static const struct http_conn_ops ops = { on_send, on_flush, on_close };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t *mem;
  static uint8_t boot_copy[0x10000];
  static struct flash_model model;
  static struct flash_model_dev dev;
  static struct iap_writer writer;
  static struct http_app app;
  static struct http_conn conn;
  const struct image_area area = { 0x08010000u, STM32_FLASH_END };
  struct http_server_config cfg = {
    .sink = &iap_writer_sink_ops, .sink_ctx = &writer, .board = &fuzz_board,
    .user = "user", .password = "stm32",
    .session_timeout_ms = 60000, .user_flash_base = area.base,
    .user_flash_size = area.end - area.base,
  };
  uint32_t now = 1000;

  if (mem == NULL) {
    mem = malloc(STM32_FLASH_SIZE);
    if (mem == NULL)
      abort();
    for (size_t i = 0; i < sizeof(boot_copy); i++)
      boot_copy[i] = (uint8_t)(i * 7u + 3u);
  }
  memset(mem, 0xFF, STM32_FLASH_SIZE);
  memcpy(mem, boot_copy, sizeof(boot_copy));
  flash_model_init(&model, mem, 0x0Fu);
  iap_writer_init(&writer, &area, flash_model_dev_init(&dev, &model, NULL, NULL));
  http_app_init(&app, &cfg);

  closed = false;
  sent = 0;
  http_conn_init(&conn, &app, &ops, NULL, "192.0.2.1:1234", now);
  size_t at = 0;
  while (at + 3 <= size) {
    uint8_t flags = data[at];
    size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
    at += 3;
    if (len > size - at)
      len = size - at;
    now += (uint32_t)(flags >> 2) * 1000u;
    if (flags & 1) {
      if (!closed)
        http_conn_closed(&conn, "fuzz: peer closed");
      closed = false;
      sent = 0;
      http_conn_init(&conn, &app, &ops, NULL, "192.0.2.1:1234", now);
    }
    if (flags & 2 && !closed)
      http_conn_poll(&conn, now);
    for (size_t used = 0; used < len && !closed;) {
      size_t n = http_conn_input(&conn, data + at + used, len - used, now);
      if (n == 0)
        http_conn_on_sent(&conn, now);
      used += n;
      if (n == 0 && used < len) {
        /* the core waits for output the fake already took: must not happen twice */
        n = http_conn_input(&conn, data + at + used, len - used, now);
        if (n == 0)
          abort();
        used += n;
      }
    }
    at += len;
  }
  if (!closed)
    http_conn_closed(&conn, "fuzz: end");
  if (iap_writer_busy(&writer))
    abort();  /* the connection's end must end its upload */
  if (memcmp(mem, boot_copy, sizeof(boot_copy)) != 0)
    abort();
  return 0;
}
