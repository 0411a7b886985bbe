/*
 * libFuzzer target: the TFTP core fed a sequence of packets and timer ticks, uploading through
 * the real flash writer into a flash model in memory. Input records:
 *   byte 0: flags (bit 0: to the transfer port, else port 69; bit 1: from a foreign peer;
 *           bit 2: fire the timer first; bits 3-7: milliseconds to advance, x 64)
 *   bytes 1-2: packet length, big-endian (cut to what is left)
 *   then the packet.
 * Checks: no crash, no sanitizer report, and the writer's promise that the bootloader sectors
 * are never touched.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flash_model.h"
#include "flash_model_dev.h"
#include "iap_writer.h"
#include "stm32f407.h"
#include "tftp_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool session_open;

static bool open_session(void *ctx)
{
  (void)ctx;
  session_open = true;
  return true;
}

static void close_session(void *ctx)
{
  (void)ctx;
  session_open = false;
}

static void send_packet(void *ctx, enum tftp_via via, const struct tftp_peer *to,
                        const uint8_t *pkt, size_t len)
{
  (void)ctx;
  (void)via;
  (void)to;
  /* Every packet the server builds is well formed: at least opcode and a field. */
  if (len < 4)
    abort();
  (void)pkt;
}

static void arm_timer(void *ctx, uint32_t delay_ms)
{
  (void)ctx;
  (void)delay_ms;
}

static void cancel_timer(void *ctx)
{
  (void)ctx;
}

static const struct tftp_core_ops ops = {
  .open_session = open_session,
  .close_session = close_session,
  .send = send_packet,
  .arm_timer = arm_timer,
  .cancel_timer = cancel_timer,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t *mem;
  static struct flash_model model;
  static struct flash_model_dev dev;
  static struct iap_writer writer;
  static struct tftp_core core;
  const struct image_area area = { 0x08010000u, STM32_FLASH_END };
  const struct tftp_peer client = { { 192, 168, 0, 1 }, 40000 };
  const struct tftp_peer stranger = { { 192, 168, 0, 7 }, 40001 };
  uint32_t now = 0;

  if (!mem) {
    mem = malloc(STM32_FLASH_SIZE);
    if (!mem)
      abort();
  }
  memset(mem, 0xFF, STM32_FLASH_SIZE);
  memset(mem, 0x5A, 0x10000);  /* the bootloader */
  flash_model_init(&model, mem, 0x0Fu);
  iap_writer_init(&writer, &area, flash_model_dev_init(&dev, &model, NULL, NULL));
  session_open = false;
  tftp_core_init(&core, &ops, NULL, &iap_writer_sink_ops, &writer, NULL);

  while (size >= 3) {
    uint8_t flags = data[0];
    size_t len = (size_t)data[1] << 8 | data[2];
    data += 3;
    size -= 3;
    if (len > size)
      len = size;
    now += (uint32_t)(flags >> 3) * 64u;
    if (flags & 4)
      tftp_core_on_timer(&core, now);
    const struct tftp_peer *from = (flags & 2) ? &stranger : &client;
    if ((flags & 1) && session_open)
      tftp_core_on_session_packet(&core, from, data, len, now);
    else
      tftp_core_on_request(&core, from, data, len, now);
    data += len;
    size -= len;
  }
  tftp_core_shutdown(&core);
  for (size_t i = 0; i < 0x10000; i++)
    if (mem[i] != 0x5A)
      abort();
  return 0;
}
