/*
 * The TFTP write server (src/tftp_core.c, src/tftp_proto.c) driven without a network: a fake
 * ops struct records every packet the core sends (which port, to whom, the bytes), session
 * opens and closes and the armed timer; time is passed in. Uploads go to a memory sink, or
 * to the real flash writer over the emulated chip.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "crc32.h"
#include "iap_writer.h"
#include "tftp_core.h"
#include "tftp_proto.h"
#include "testlib.h"

/* ---- the fake network -------------------------------------------------------------- */

#define MAX_SENT 64  /* the last packets sent, a ring */

struct sent_pkt {
  enum tftp_via via;
  struct tftp_peer to;
  uint8_t bytes[TFTP_MAX_DATA_PACKET];
  size_t len;
};

struct fake_net {
  struct sent_pkt sent[MAX_SENT];
  unsigned nsent;         /* packets sent in all */
  unsigned opens, closes, arms, cancels;
  bool open_fails;
  bool session_open;
  bool timer_armed;
  uint32_t timer_delay_ms;
  char events[256];       /* O open, C close, S send, A arm, X cancel: the order of calls */
  size_t nevents;
};

static struct fake_net net;

static void event(char e)
{
  if (net.nevents < sizeof(net.events) - 1)
    net.events[net.nevents++] = e;
}

static bool fake_open_session(void *ctx)
{
  ck_assert_ptr_eq(ctx, &net);
  ck_assert_msg(!net.session_open, "session opened twice");
  event('O');
  net.opens++;
  if (net.open_fails)
    return false;
  net.session_open = true;
  return true;
}

static void fake_close_session(void *ctx)
{
  ck_assert_ptr_eq(ctx, &net);
  event('C');
  net.closes++;
  net.session_open = false;
}

static void fake_send(void *ctx, enum tftp_via via, const struct tftp_peer *to,
                      const uint8_t *pkt, size_t len)
{
  ck_assert_ptr_eq(ctx, &net);
  ck_assert_uint_le(len, TFTP_MAX_DATA_PACKET);
  if (via == TFTP_VIA_SESSION)
    ck_assert_msg(net.session_open, "sent via a session that is not open");
  struct sent_pkt *s = &net.sent[net.nsent % MAX_SENT];
  s->via = via;
  s->to = *to;
  memcpy(s->bytes, pkt, len);
  s->len = len;
  net.nsent++;
  event('S');
}

static void fake_arm_timer(void *ctx, uint32_t delay_ms)
{
  ck_assert_ptr_eq(ctx, &net);
  event('A');
  net.arms++;
  net.timer_armed = true;
  net.timer_delay_ms = delay_ms;
}

static void fake_cancel_timer(void *ctx)
{
  ck_assert_ptr_eq(ctx, &net);
  event('X');
  net.cancels++;
  net.timer_armed = false;
}

static const struct tftp_core_ops fake_ops = {
  .open_session = fake_open_session,
  .close_session = fake_close_session,
  .send = fake_send,
  .arm_timer = fake_arm_timer,
  .cancel_timer = fake_cancel_timer,
};

/* Packet k (0 = the first one sent); only the last MAX_SENT are kept. */
static const struct sent_pkt *sent(unsigned k)
{
  ck_assert_uint_lt(k, net.nsent);
  ck_assert_uint_lt(net.nsent - k, MAX_SENT + 1);
  return &net.sent[k % MAX_SENT];
}

static const struct sent_pkt *last_sent(void)
{
  return sent(net.nsent - 1);
}

/* ---- a memory sink ------------------------------------------------------------------- */

struct mem_sink {
  uint8_t *buf;           /* NULL: keep only the length and CRC */
  size_t cap;             /* beyond this, writes fail with IAP_ERR_TOO_LARGE */
  size_t len;
  uint32_t crc;
  bool active;
  unsigned begins, writes, finishes, aborts;
  char protocol[16], peer[48];
  uint32_t expected;
  enum iap_status fail_begin, fail_finish;
  size_t fail_write_after;  /* a write that takes len past this fails with IAP_ERR_FLASH */
  char abort_why[128];
  const char *message;      /* when set, the text of every failure */
};

static struct mem_sink sink;

static void fill_error(struct iap_error *err, enum iap_status status, const char *msg)
{
  err->status = status;
  snprintf(err->message, sizeof(err->message), "%s", sink.message ? sink.message : msg);
}

static enum iap_status mem_begin(void *ctx, const char *protocol, const char *peer,
                                 uint32_t expected_size, struct iap_error *err)
{
  struct mem_sink *s = ctx;
  ck_assert_ptr_eq(s, &sink);
  if (s->active) {
    fill_error(err, IAP_ERR_BUSY, "memory sink busy");
    return err->status;
  }
  s->begins++;
  snprintf(s->protocol, sizeof(s->protocol), "%s", protocol);
  snprintf(s->peer, sizeof(s->peer), "%s", peer);
  s->expected = expected_size;
  if (s->fail_begin != IAP_OK) {
    fill_error(err, s->fail_begin, "memory sink refuses to begin");
    return err->status;
  }
  s->active = true;
  s->len = 0;
  s->crc = 0;
  return IAP_OK;
}

static enum iap_status mem_write(void *ctx, const uint8_t *data, size_t len,
                                 struct iap_error *err)
{
  struct mem_sink *s = ctx;
  ck_assert_msg(s->active, "write to a sink that was not begun");
  ck_assert_uint_gt(len, 0);
  s->writes++;
  if (len > s->cap - s->len) {
    s->active = false;
    fill_error(err, IAP_ERR_TOO_LARGE, "memory sink full");
    return err->status;
  }
  if (s->len + len > s->fail_write_after) {
    s->active = false;
    fill_error(err, IAP_ERR_FLASH, "memory sink write failed as told");
    return err->status;
  }
  if (s->buf)
    memcpy(s->buf + s->len, data, len);
  s->len += len;
  s->crc = crc32_update(s->crc, data, len);
  return IAP_OK;
}

static enum iap_status mem_finish(void *ctx, struct iap_result *result, struct iap_error *err)
{
  struct mem_sink *s = ctx;
  ck_assert_msg(s->active, "finish of a sink that was not begun");
  s->finishes++;
  s->active = false;
  if (s->fail_finish != IAP_OK) {
    fill_error(err, s->fail_finish, "memory sink refuses the image");
    return err->status;
  }
  result->size = (uint32_t)s->len;
  result->crc32 = s->crc;
  return IAP_OK;
}

static void mem_abort(void *ctx, const char *why)
{
  struct mem_sink *s = ctx;
  if (!s->active)
    return;
  s->aborts++;
  s->active = false;
  snprintf(s->abort_why, sizeof(s->abort_why), "%s", why);
}

static const struct image_sink_ops mem_sink_ops = {
  .begin = mem_begin,
  .write = mem_write,
  .finish = mem_finish,
  .abort = mem_abort,
};

/* ---- fixtures ----------------------------------------------------------------------- */

static struct tftp_core core;
static struct tl_flash flash;
static struct iap_writer writer;
static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };

static const struct tftp_peer peer_a = { { 192, 168, 0, 2 }, 50000 };
static const struct tftp_peer peer_a2 = { { 192, 168, 0, 2 }, 50002 };  /* A, other port */
static const struct tftp_peer peer_b = { { 192, 168, 0, 3 }, 50001 };

static void mem_setup(void)
{
  memset(&net, 0, sizeof(net));
  memset(&sink, 0, sizeof(sink));
  sink.cap = 1u << 20;
  sink.fail_write_after = SIZE_MAX;
  sink.buf = malloc(sink.cap);
  ck_assert_ptr_nonnull(sink.buf);
  tftp_core_init(&core, &fake_ops, &net, &mem_sink_ops, &sink, NULL);
}

static void mem_teardown(void)
{
  free(sink.buf);
  sink.buf = NULL;
}

static void writer_setup(void)
{
  memset(&net, 0, sizeof(net));
  tl_flash_open(&flash);
  iap_writer_init(&writer, &user_area, flash.dev);
  tftp_core_init(&core, &fake_ops, &net, &iap_writer_sink_ops, &writer, NULL);
}

static void writer_teardown(void)
{
  tl_flash_close(&flash);
}

/* ---- packets in -------------------------------------------------------------------- */

/* A request: opcode, then each string of the NULL-terminated list with its NUL. */
static size_t build_request(uint8_t *buf, size_t size, uint16_t op, ...)
{
  va_list ap;
  size_t n = 2;
  buf[0] = (uint8_t)(op >> 8);
  buf[1] = (uint8_t)op;
  va_start(ap, op);
  for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
    size_t l = strlen(s) + 1;
    ck_assert_uint_le(n + l, size);
    memcpy(buf + n, s, l);
    n += l;
  }
  va_end(ap);
  return n;
}

static void wrq(const struct tftp_peer *from, const char *mode, uint32_t now)
{
  uint8_t pkt[64];
  size_t len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "app.bin", mode, (const char *)NULL);
  tftp_core_on_request(&core, from, pkt, len, now);
}

static void wrq_tsize(const struct tftp_peer *from, const char *mode, const char *tsize,
                      uint32_t now)
{
  uint8_t pkt[96];
  size_t len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "app.bin", mode, "blksize", "1428",
                             "tsize", tsize, (const char *)NULL);
  tftp_core_on_request(&core, from, pkt, len, now);
}

/* A WRQ for app.bin with the NULL-terminated option names and values that follow mode. */
static void wrq_opts(const struct tftp_peer *from, const char *mode, uint32_t now, ...)
{
  uint8_t pkt[512];
  size_t n = 2;
  va_list ap;
  pkt[0] = 0;
  pkt[1] = TFTP_WRQ;
  memcpy(pkt + n, "app.bin", 8);
  n += 8;
  ck_assert_uint_lt(strlen(mode) + 1, sizeof(pkt) - n);
  memcpy(pkt + n, mode, strlen(mode) + 1);
  n += strlen(mode) + 1;
  va_start(ap, now);
  for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
    size_t l = strlen(s) + 1;
    ck_assert_uint_le(n + l, sizeof(pkt));
    memcpy(pkt + n, s, l);
    n += l;
  }
  va_end(ap);
  tftp_core_on_request(&core, from, pkt, n, now);
}

static void data(const struct tftp_peer *from, uint16_t block, const uint8_t *payload,
                 size_t len, uint32_t now)
{
  uint8_t pkt[TFTP_HEADER_SIZE + TFTP_BLKSIZE_MAX + 64];
  ck_assert_uint_le(len, sizeof(pkt) - TFTP_HEADER_SIZE);
  pkt[0] = 0;
  pkt[1] = TFTP_DATA;
  pkt[2] = (uint8_t)(block >> 8);
  pkt[3] = (uint8_t)block;
  if (len)
    memcpy(pkt + TFTP_HEADER_SIZE, payload, len);
  tftp_core_on_session_packet(&core, from, pkt, len + TFTP_HEADER_SIZE, now);
}

static void session_raw(const struct tftp_peer *from, const void *pkt, size_t len, uint32_t now)
{
  tftp_core_on_session_packet(&core, from, pkt, len, now);
}

/* ---- packets out ------------------------------------------------------------------- */

static bool same_peer(const struct tftp_peer *a, const struct tftp_peer *b)
{
  return a->port == b->port && memcmp(a->ip, b->ip, 4) == 0;
}

static void assert_ack(const struct sent_pkt *p, const struct tftp_peer *to, uint16_t block)
{
  const uint8_t want[4] = { 0, 4, (uint8_t)(block >> 8), (uint8_t)block };
  ck_assert_int_eq(p->via, TFTP_VIA_SESSION);
  ck_assert(same_peer(&p->to, to));
  ck_assert_uint_eq(p->len, 4);
  ck_assert_msg(memcmp(p->bytes, want, 4) == 0, "want ACK %u, got %02x %02x %02x %02x",
                block, p->bytes[0], p->bytes[1], p->bytes[2], p->bytes[3]);
}

/* Exactly this OACK (a string literal: opcode 6, then name NUL value NUL ...). */
#define assert_oack(p, to, lit) assert_oack_bytes(p, to, (const uint8_t *)(lit), sizeof(lit) - 1)

static void assert_oack_bytes(const struct sent_pkt *p, const struct tftp_peer *to,
                              const uint8_t *want, size_t len)
{
  ck_assert_int_eq(p->via, TFTP_VIA_SESSION);
  ck_assert(same_peer(&p->to, to));
  ck_assert_msg(p->len == len && memcmp(p->bytes, want, len) == 0,
                "want OACK of %zu bytes, got %zu bytes starting %02x %02x", len, p->len,
                p->bytes[0], p->bytes[1]);
}

/* An ERROR packet: opcode 5, code, a NUL-terminated message containing `text`. */
static void assert_error(const struct sent_pkt *p, enum tftp_via via, const struct tftp_peer *to,
                         uint16_t code, const char *text)
{
  ck_assert_int_eq(p->via, via);
  ck_assert(same_peer(&p->to, to));
  ck_assert_uint_ge(p->len, 5);
  ck_assert_uint_eq(p->bytes[0], 0);
  ck_assert_uint_eq(p->bytes[1], TFTP_ERROR);
  ck_assert_uint_eq(p->bytes[2], code >> 8);
  ck_assert_msg(p->bytes[3] == (code & 0xFF), "want ERROR %u, got ERROR %u", code, p->bytes[3]);
  ck_assert_uint_eq(p->bytes[p->len - 1], 0);
  ck_assert_uint_eq(strlen((const char *)p->bytes + 4), p->len - 5);  /* one NUL, at the end */
  tl_assert_contains((const char *)p->bytes + 4, text);
}

static void pattern(uint8_t *buf, size_t len, uint32_t seed)
{
  tl_fill_random(buf, len, seed);
}

/* ---- the basic transfer -------------------------------------------------------------- */

START_TEST(wrq_octet_acks_block_0)
{
  wrq(&peer_a, "octet", 1000);
  ck_assert_uint_eq(net.nsent, 1);
  const struct sent_pkt *p = sent(0);
  ck_assert_int_eq(p->via, TFTP_VIA_SESSION);
  ck_assert(same_peer(&p->to, &peer_a));
  ck_assert_uint_eq(p->len, 4);
  ck_assert_mem_eq(p->bytes, "\x00\x04\x00\x00", 4);
  ck_assert_str_eq(net.events, "OSA");  /* open the TID, ACK 0 from it, arm the timer */
  ck_assert_uint_eq(net.timer_delay_ms, TFTP_TIMEOUT_MS);
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_str_eq(sink.protocol, "TFTP");
  ck_assert_str_eq(sink.peer, "192.168.0.2");
  ck_assert_uint_eq(sink.expected, 0);
  ck_assert(tftp_core_busy(&core));
}
END_TEST

START_TEST(data_blocks_acked_then_dally)
{
  uint8_t file[3 * 512 + 100];
  uint32_t t = 0;
  pattern(file, sizeof(file), 1);
  wrq(&peer_a, "octet", t);
  for (uint16_t b = 1; b <= 4; b++) {
    size_t off = (size_t)(b - 1) * 512, n = b < 4 ? 512 : 100;
    t += 10;
    data(&peer_a, b, file + off, n, t);
    ck_assert_uint_eq(net.nsent, 1u + b);
    assert_ack(last_sent(), &peer_a, b);
    ck_assert(net.timer_armed);
    ck_assert_uint_eq(net.timer_delay_ms, b < 4 ? TFTP_TIMEOUT_MS : TFTP_DALLY_MS);
  }
  ck_assert_uint_eq(sink.len, sizeof(file));
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(sink.writes, 4);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.aborts, 0);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
  ck_assert(!tftp_core_busy(&core));  /* dallying: a new client may start */
  ck_assert_uint_eq(net.closes, 0);

  /* The dally timer ends the session, silently. */
  tftp_core_on_timer(&core, t + TFTP_DALLY_MS);
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!net.timer_armed);
  ck_assert(!net.session_open);
  ck_assert_uint_eq(net.nsent, 5);
  /* Closed: late packets are ignored, a stray timer does nothing. */
  data(&peer_a, 4, file + 1536, 100, t + TFTP_DALLY_MS + 1000);
  tftp_core_on_timer(&core, t + TFTP_DALLY_MS + 2000);
  ck_assert_uint_eq(net.nsent, 5);
  /* The next upload starts afresh. */
  wrq(&peer_b, "octet", t + TFTP_DALLY_MS + 3000);
  ck_assert_uint_eq(net.opens, 2);
  assert_ack(last_sent(), &peer_b, 0);
  ck_assert_uint_eq(sink.begins, 2);
}
END_TEST

START_TEST(empty_final_block)
{
  uint8_t file[1024];
  pattern(file, sizeof(file), 2);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  data(&peer_a, 2, file + 512, 512, 20);
  ck_assert_uint_eq(sink.finishes, 0);  /* 512 bytes: not the last block */
  ck_assert_uint_eq(net.timer_delay_ms, TFTP_TIMEOUT_MS);
  data(&peer_a, 3, NULL, 0, 30);
  assert_ack(last_sent(), &peer_a, 3);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.len, 1024);
  ck_assert_mem_eq(sink.buf, file, 1024);
  ck_assert_uint_eq(net.timer_delay_ms, TFTP_DALLY_MS);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

/* ---- duplicates ------------------------------------------------------------------- */

START_TEST(duplicate_data_holdoff)
{
  uint8_t file[700];
  pattern(file, sizeof(file), 3);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  ck_assert_uint_eq(net.nsent, 2);
  /* A copy that crossed our ACK 1 on the wire: not answered. */
  data(&peer_a, 1, file, 512, 10 + TFTP_DUP_ACK_HOLDOFF_MS - 1);
  ck_assert_uint_eq(net.nsent, 2);
  ck_assert_uint_eq(core.stats.duplicate_data, 1);
  ck_assert_uint_eq(core.stats.duplicate_acks_held, 1);
  /* The client's own re-send, later: our ACK was lost, send it again. */
  data(&peer_a, 1, file, 512, 10 + TFTP_DUP_ACK_HOLDOFF_MS);
  ck_assert_uint_eq(net.nsent, 3);
  assert_ack(last_sent(), &peer_a, 1);
  ck_assert_uint_eq(core.stats.duplicate_data, 2);
  ck_assert_uint_eq(core.stats.duplicate_acks_held, 1);
  /* The hold-off counts from the re-sent ACK. */
  data(&peer_a, 1, file, 512, 10 + TFTP_DUP_ACK_HOLDOFF_MS + 1);
  ck_assert_uint_eq(net.nsent, 3);
  ck_assert_uint_eq(core.stats.duplicate_acks_held, 2);
  /* Never written twice. */
  ck_assert_uint_eq(sink.writes, 1);
  ck_assert_uint_eq(sink.len, 512);
  data(&peer_a, 2, file + 512, 188, 2000);
  assert_ack(last_sent(), &peer_a, 2);
  ck_assert_uint_eq(sink.len, 700);
  ck_assert_mem_eq(sink.buf, file, 700);
}
END_TEST

START_TEST(duplicate_of_block_0_after_wrq)
{
  /* A DATA numbered 0 is a copy of nothing; it only re-ACKs 0 after the hold-off. */
  uint8_t junk[16] = { 0 };
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 0, junk, sizeof(junk), 5);
  ck_assert_uint_eq(net.nsent, 1);
  data(&peer_a, 0, junk, sizeof(junk), TFTP_DUP_ACK_HOLDOFF_MS);
  ck_assert_uint_eq(net.nsent, 2);
  assert_ack(last_sent(), &peer_a, 0);
  ck_assert_uint_eq(sink.writes, 0);
}
END_TEST

START_TEST(sorcerers_apprentice)
{
  /* A client whose every DATA arrives twice (it re-sent each one as the ACK crossed it):
   * exactly one ACK per block, so the duplication does not grow. */
  enum { BLOCKS = 20 };
  uint8_t file[(BLOCKS - 1) * 512 + 300];
  unsigned acks[BLOCKS + 1] = { 0 };
  uint32_t t = 0;
  pattern(file, sizeof(file), 4);
  wrq(&peer_a, "octet", t);
  for (uint16_t b = 1; b <= BLOCKS; b++) {
    size_t off = (size_t)(b - 1) * 512, n = b < BLOCKS ? 512 : 300;
    t += 3;
    data(&peer_a, b, file + off, n, t);
    data(&peer_a, b, file + off, n, t + 1);
    if (b > 1)  /* and a late copy of the previous block */
      data(&peer_a, (uint16_t)(b - 1), file + off - 512, 512, t + 2);
  }
  ck_assert_uint_eq(net.nsent, BLOCKS + 1);
  for (unsigned k = 0; k < net.nsent; k++) {
    const struct sent_pkt *p = sent(k);
    ck_assert_uint_eq(p->len, 4);
    ck_assert_uint_eq(p->bytes[1], TFTP_ACK);
    unsigned block = (unsigned)(p->bytes[2] << 8 | p->bytes[3]);
    ck_assert_uint_le(block, BLOCKS);
    acks[block]++;
  }
  for (unsigned b = 0; b <= BLOCKS; b++)
    ck_assert_msg(acks[b] == 1, "ACK %u sent %u times", b, acks[b]);
  ck_assert_uint_eq(sink.len, sizeof(file));
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  /* Each block's immediate copy is held; the late copies of older blocks are ignored. */
  ck_assert_uint_eq(core.stats.duplicate_acks_held, BLOCKS);
  ck_assert_uint_eq(core.stats.duplicate_data, BLOCKS);
}
END_TEST

START_TEST(duplicate_wrq_same_peer)
{
  uint8_t block[512];
  pattern(block, sizeof(block), 5);
  wrq(&peer_a, "octet", 0);
  wrq(&peer_a, "octet", 1500);  /* ACK 0 was lost */
  ck_assert_uint_eq(net.nsent, 2);
  assert_ack(sent(1), &peer_a, 0);
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_uint_eq(net.opens, 1);
  data(&peer_a, 1, block, 512, 1600);
  assert_ack(last_sent(), &peer_a, 1);
  /* Once DATA 1 came, a late copy of the WRQ means nothing. */
  wrq(&peer_a, "octet", 1700);
  ck_assert_uint_eq(net.nsent, 3);
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_uint_eq(sink.len, 512);
}
END_TEST

/* ---- other peers ------------------------------------------------------------------ */

START_TEST(wrq_from_other_peer_while_busy)
{
  uint8_t file[600];
  pattern(file, sizeof(file), 6);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  wrq(&peer_b, "octet", 20);
  ck_assert_uint_eq(net.nsent, 3);
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_b, TFTP_EUNDEF, "busy");
  tl_assert_contains((const char *)last_sent()->bytes + 4, "192.168.0.2");
  /* The same host from another port is another client. */
  wrq(&peer_a2, "octet", 30);
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a2, TFTP_EUNDEF, "busy");
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_uint_eq(net.opens, 1);
  ck_assert_uint_eq(net.closes, 0);
  data(&peer_a, 2, file + 512, 88, 40);
  assert_ack(last_sent(), &peer_a, 2);
  ck_assert_uint_eq(sink.len, 600);
  ck_assert_mem_eq(sink.buf, file, 600);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

START_TEST(foreign_tid_gets_error_5)
{
  static const uint8_t error5[] = "\x00\x05\x00\x05unknown transfer ID";  /* with its NUL */
  uint8_t file[512];
  pattern(file, sizeof(file), 7);
  wrq(&peer_a, "octet", 0);
  data(&peer_a2, 1, file, 512, 10);
  ck_assert_uint_eq(net.nsent, 2);
  const struct sent_pkt *p = last_sent();
  ck_assert_int_eq(p->via, TFTP_VIA_SESSION);
  ck_assert(same_peer(&p->to, &peer_a2));
  ck_assert_uint_eq(p->len, sizeof(error5));
  ck_assert_mem_eq(p->bytes, error5, sizeof(error5));
  data(&peer_b, 1, file, 512, 11);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_b, TFTP_EBADID, "unknown transfer ID");
  /* An ERROR from a stranger is not answered and ends nothing. */
  session_raw(&peer_b, "\x00\x05\x00\x00go away", 12, 12);
  ck_assert_uint_eq(net.nsent, 3);
  ck_assert_uint_eq(sink.writes, 0);
  ck_assert_uint_eq(sink.aborts, 0);
  ck_assert_uint_eq(net.closes, 0);
  data(&peer_a, 1, file, 512, 20);
  assert_ack(last_sent(), &peer_a, 1);
  ck_assert_uint_eq(sink.len, 512);
}
END_TEST

/* ---- requests that start nothing ---------------------------------------------------- */

START_TEST(rrq_refused)
{
  uint8_t pkt[64];
  size_t len = build_request(pkt, sizeof(pkt), TFTP_RRQ, "app.bin", "octet", (const char *)NULL);
  tftp_core_on_request(&core, &peer_a, pkt, len, 0);
  ck_assert_uint_eq(net.nsent, 1);
  assert_error(sent(0), TFTP_VIA_TRANSIENT, &peer_a, TFTP_EACCESS, "only takes uploads");
  ck_assert_uint_eq(net.opens, 0);
  ck_assert_uint_eq(sink.begins, 0);
  ck_assert(!tftp_core_busy(&core));
}
END_TEST

START_TEST(malformed_requests)
{
  static const struct {
    const char *bytes;
    size_t len;
    int code;          /* -1: no answer */
    const char *text;
  } cases[] = {
#define C(lit, code, text) { lit, sizeof(lit) - 1, code, text }
    C("\x00\x02" "app.bin", TFTP_EBADOP, "not NUL-terminated"),
    C("\x00\x02" "app.bin\0octet", TFTP_EBADOP, "not NUL-terminated"),
    C("\x00\x02" "app.bin\0", TFTP_EBADOP, "missing filename or mode"),
    C("\x00\x02\0", TFTP_EBADOP, "missing filename or mode"),
    C("\x00\x02\0octet\0", TFTP_EBADOP, "empty filename"),
    C("\x00\x02", TFTP_EBADOP, "not NUL-terminated"),
    C("\x00\x02" "app.bin\0mail\0", TFTP_EBADOP, "\"mail\" not supported"),
    C("\x00\x02" "app.bin\0binary\0", TFTP_EBADOP, "\"binary\" not supported"),
    C("\x00\x01\0octet\0", TFTP_EBADOP, "empty filename"),
    C("\x00\x03\x00\x01" "data", TFTP_EBADOP, "write requests only"),
    C("\x00\x04\x00\x00", TFTP_EBADOP, "write requests only"),
    C("\x00\x06" "tsize\0" "1\0", TFTP_EBADOP, "write requests only"),
    C("\xff\xff", TFTP_EBADOP, "write requests only"),
    C("\x00", -1, NULL),                          /* shorter than an opcode */
    C("", -1, NULL),
    C("\x00\x05\x00\x00" "oops\0", -1, NULL),     /* never answer an ERROR */
    C("\x00\x05", -1, NULL),
#undef C
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    unsigned before = net.nsent;
    tftp_core_on_request(&core, &peer_a, (const uint8_t *)cases[i].bytes, cases[i].len,
                         (uint32_t)i);
    if (cases[i].code < 0) {
      ck_assert_msg(net.nsent == before, "case %zu answered", i);
    } else {
      ck_assert_msg(net.nsent == before + 1, "case %zu not answered", i);
      assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a, (uint16_t)cases[i].code,
                   cases[i].text);
    }
  }
  ck_assert_uint_eq(net.opens, 0);
  ck_assert_uint_eq(sink.begins, 0);
  ck_assert(!tftp_core_busy(&core));
}
END_TEST

START_TEST(mode_case_insensitive)
{
  wrq(&peer_a, "OcTeT", 0);
  assert_ack(last_sent(), &peer_a, 0);
  ck_assert(!core.netascii);
  tftp_core_shutdown(&core);
  wrq(&peer_a, "NETASCII", 0);
  assert_ack(last_sent(), &peer_a, 0);
  ck_assert(core.netascii);
}
END_TEST

/* ---- errors during a transfer ------------------------------------------------------- */

START_TEST(data_too_long)
{
  uint8_t big[513];
  pattern(big, sizeof(big), 8);
  wrq(&peer_a, "octet", 0);
  net.nevents = 0;
  memset(net.events, 0, sizeof(net.events));
  data(&peer_a, 1, big, 513, 10);
  ck_assert_uint_eq(net.nsent, 2);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EBADOP, "larger than 512");
  ck_assert_str_eq(net.events, "SXC");  /* the ERROR goes out before the port closes */
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(sink.len, 0);
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
  ck_assert(!tftp_core_busy(&core));
  ck_assert(!net.session_open);
}
END_TEST

START_TEST(data_too_short)
{
  wrq(&peer_a, "octet", 0);
  session_raw(&peer_a, "\x00\x03\x00", 3, 10);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EBADOP, "malformed DATA");
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(net.closes, 1);
}
END_TEST

START_TEST(unexpected_opcode_on_session)
{
  static const struct { const char *pkt; size_t len; } cases[] = {
    { "\x00\x04\x00\x00", 4 },             /* ACK */
    { "\x00\x02" "app.bin\0octet\0", 16 }, /* WRQ to the TID */
    { "\x00\x01" "app.bin\0octet\0", 16 },
    { "\x00", 1 },
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    unsigned before = net.nsent;
    wrq(&peer_a, "octet", 0);
    session_raw(&peer_a, cases[i].pkt, cases[i].len, 10);
    ck_assert_uint_eq(net.nsent, before + 2);
    assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EBADOP, "illegal");
    ck_assert_uint_eq(sink.aborts, i + 1);
    ck_assert_uint_eq(net.closes, i + 1);
  }
}
END_TEST

START_TEST(stale_and_future_blocks_ignored)
{
  uint8_t file[1024];
  pattern(file, sizeof(file), 9);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  data(&peer_a, 3, file, 512, 1000);      /* from the future */
  data(&peer_a, 0, file, 512, 1000);      /* older than the last */
  data(&peer_a, 65535, file, 512, 1000);
  ck_assert_uint_eq(net.nsent, 2);
  ck_assert_uint_eq(sink.len, 512);
  ck_assert(tftp_core_busy(&core));
  data(&peer_a, 2, file + 512, 512, 1010);
  assert_ack(last_sent(), &peer_a, 2);
  ck_assert_mem_eq(sink.buf, file, 1024);
}
END_TEST

START_TEST(timeout_resends_then_gives_up)
{
  uint32_t t = 0;
  wrq(&peer_a, "octet", t);
  for (unsigned r = 1; r <= TFTP_MAX_RETRIES; r++) {
    t += TFTP_TIMEOUT_MS;
    tftp_core_on_timer(&core, t);
    ck_assert_uint_eq(net.nsent, 1 + r);
    assert_ack(last_sent(), &peer_a, 0);
    ck_assert(net.timer_armed);
    ck_assert_uint_eq(net.timer_delay_ms, TFTP_TIMEOUT_MS);
    ck_assert_uint_eq(core.stats.ack_retransmits, r);
    ck_assert_uint_eq(sink.aborts, 0);
  }
  t += TFTP_TIMEOUT_MS;
  tftp_core_on_timer(&core, t);
  ck_assert_uint_eq(net.nsent, 2 + TFTP_MAX_RETRIES);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF, "timed out");
  tl_assert_contains((const char *)last_sent()->bytes + 4, "no DATA 1");
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!net.timer_armed);
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
  ck_assert(!tftp_core_busy(&core));
  tftp_core_on_timer(&core, t + TFTP_TIMEOUT_MS);  /* stray: nothing */
  ck_assert_uint_eq(net.nsent, 2 + TFTP_MAX_RETRIES);
}
END_TEST

START_TEST(timeout_retries_reset_by_progress)
{
  uint8_t file[512];
  uint32_t t = 0;
  pattern(file, sizeof(file), 10);
  wrq(&peer_a, "octet", t);
  for (unsigned r = 0; r < TFTP_MAX_RETRIES; r++)
    tftp_core_on_timer(&core, t += TFTP_TIMEOUT_MS);
  data(&peer_a, 1, file, 512, t += 10);
  for (unsigned r = 0; r < TFTP_MAX_RETRIES; r++) {
    tftp_core_on_timer(&core, t += TFTP_TIMEOUT_MS);
    assert_ack(last_sent(), &peer_a, 1);
  }
  ck_assert_uint_eq(sink.aborts, 0);
  tftp_core_on_timer(&core, t += TFTP_TIMEOUT_MS);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF, "no DATA 2");
  ck_assert_uint_eq(sink.aborts, 1);
}
END_TEST

START_TEST(client_error_aborts)
{
  uint8_t file[512];
  pattern(file, sizeof(file), 11);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  session_raw(&peer_a, "\x00\x05\x00\x03" "disk on fire\0", 17, 20);
  ck_assert_uint_eq(net.nsent, 2);  /* an ERROR is not answered */
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!net.timer_armed);
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
  ck_assert(!tftp_core_busy(&core));
  /* A bare 4-byte ERROR, and one with a binary message, end a transfer the same way. */
  wrq(&peer_b, "octet", 30);
  session_raw(&peer_b, "\x00\x05\x00\x00", 4, 40);
  ck_assert_uint_eq(sink.aborts, 2);
  wrq(&peer_b, "octet", 50);
  session_raw(&peer_b, "\x00\x05\x00\x00\x01\xff\x80no NUL", 13, 60);
  ck_assert_uint_eq(sink.aborts, 3);
  ck_assert_uint_eq(net.closes, 3);
  ck_assert_uint_eq(sink.begins, 3);
}
END_TEST

START_TEST(shutdown_mid_transfer)
{
  uint8_t file[512];
  pattern(file, sizeof(file), 12);
  tftp_core_shutdown(&core);  /* idle: nothing */
  ck_assert_uint_eq(net.nsent + net.closes, 0);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  tftp_core_shutdown(&core);
  ck_assert_uint_eq(net.nsent, 3);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF, "board reset");
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!net.timer_armed);
  ck_assert(!tftp_core_busy(&core));
  tftp_core_shutdown(&core);
  ck_assert_uint_eq(net.nsent, 3);
  ck_assert_uint_eq(net.closes, 1);
}
END_TEST

START_TEST(shutdown_while_dallying)
{
  uint8_t file[10];
  pattern(file, sizeof(file), 13);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 10, 10);
  tftp_core_shutdown(&core);
  ck_assert_uint_eq(net.nsent, 2);  /* the upload is done: no ERROR */
  ck_assert_uint_eq(sink.aborts, 0);
  ck_assert_uint_eq(net.closes, 1);
}
END_TEST

START_TEST(dally_reacks_final_block)
{
  uint8_t file[300];
  pattern(file, sizeof(file), 14);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 300, 10);
  ck_assert_uint_eq(net.nsent, 2);
  data(&peer_a, 1, file, 300, 11);  /* crossed the final ACK */
  ck_assert_uint_eq(net.nsent, 2);
  data(&peer_a, 1, file, 300, 3000);  /* the final ACK was lost */
  ck_assert_uint_eq(net.nsent, 3);
  assert_ack(last_sent(), &peer_a, 1);
  data(&peer_a, 2, file, 10, 3100);  /* nothing after the last block */
  session_raw(&peer_a, "\x00\x04\x00\x01", 4, 3200);
  ck_assert_uint_eq(net.nsent, 3);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.writes, 1);
  ck_assert_uint_eq(net.closes, 0);
  /* A new client's WRQ ends the dally and starts its transfer. */
  wrq(&peer_b, "octet", 3300);
  ck_assert_uint_eq(net.closes, 1);
  ck_assert_uint_eq(net.opens, 2);
  assert_ack(last_sent(), &peer_b, 0);
  ck_assert(tftp_core_busy(&core));
}
END_TEST

START_TEST(open_session_fails)
{
  net.open_fails = true;
  wrq(&peer_a, "octet", 0);
  ck_assert_uint_eq(net.nsent, 1);
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a, TFTP_EUNDEF, "out of memory");
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert(!net.timer_armed);
  ck_assert(!tftp_core_busy(&core));
}
END_TEST

START_TEST(sink_refuses_begin)
{
  sink.fail_begin = IAP_ERR_TOO_LARGE;
  wrq(&peer_a, "octet", 0);
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a, TFTP_ENOSPACE,
               "memory sink refuses to begin");
  sink.fail_begin = IAP_ERR_BUSY;
  wrq(&peer_a, "octet", 0);
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a, TFTP_EUNDEF,
               "memory sink refuses to begin");
  ck_assert_uint_eq(net.opens, 0);
  ck_assert(!tftp_core_busy(&core));
}
END_TEST

START_TEST(sink_write_fails)
{
  uint8_t file[1024];
  pattern(file, sizeof(file), 15);
  sink.fail_write_after = 600;
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 512, 10);
  assert_ack(last_sent(), &peer_a, 1);
  data(&peer_a, 2, file + 512, 512, 20);
  ck_assert_uint_eq(net.nsent, 3);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "memory sink write failed as told");
  ck_assert_uint_eq(net.closes, 1);
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
  ck_assert(!tftp_core_busy(&core));
}
END_TEST

START_TEST(sink_finish_fails)
{
  uint8_t file[100];
  pattern(file, sizeof(file), 16);
  sink.fail_finish = IAP_ERR_INVALID_IMAGE;
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, file, 100, 10);
  ck_assert_uint_eq(net.nsent, 2);  /* no final ACK: the ERROR instead */
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "memory sink refuses the image");
  ck_assert_uint_eq(net.closes, 1);
  ck_assert_uint_eq(core.stats.transfers_ok, 0);
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
}
END_TEST

START_TEST(session_packet_when_idle_ignored)
{
  uint8_t file[512] = { 0 };
  data(&peer_a, 1, file, 512, 0);
  session_raw(&peer_a, "\x00\x04\x00\x00", 4, 0);
  ck_assert_uint_eq(net.nsent, 0);
  ck_assert_uint_eq(sink.writes, 0);
}
END_TEST

/* ---- block number wrap ------------------------------------------------------------- */

static void wrap_payload(uint8_t *buf, uint32_t k)
{
  /* Depends on the whole block index, so block 1 and block 65537 differ. */
  for (unsigned j = 0; j < 512; j++)
    buf[j] = (uint8_t)(k * 131u + j * 7u + (k >> 8) + (k >> 16) * 29u);
}

START_TEST(block_number_wraps)
{
  const uint32_t full = 65536u + 10u;
  uint8_t payload[512];
  uint32_t want_crc = 0, t = 0;
  free(sink.buf);
  sink.buf = NULL;  /* length and CRC only */
  sink.cap = SIZE_MAX;

  wrq(&peer_a, "octet", t);
  for (uint32_t k = 1; k <= full + 1; k++) {
    size_t n = k <= full ? 512 : 77;
    wrap_payload(payload, k);
    want_crc = crc32_update(want_crc, payload, n);
    data(&peer_a, (uint16_t)k, payload, n, ++t);
    ck_assert_uint_eq(net.nsent, 1 + k);
    const struct sent_pkt *p = last_sent();
    if (p->len != 4 || p->bytes[1] != TFTP_ACK
        || (uint32_t)(p->bytes[2] << 8 | p->bytes[3]) != (k & 0xFFFFu))
      ck_abort_msg("block %u: want ACK %u", k, k & 0xFFFF);
    if (k == 65535u || k == 65536u || k == 65537u)
      assert_ack(p, &peer_a, (uint16_t)k);  /* 65535, then 0, then 1 */
  }
  ck_assert_uint_eq(sink.len, (size_t)full * 512 + 77);
  ck_assert_uint_eq(sink.crc, want_crc);
  ck_assert_uint_eq(sink.writes, full + 1);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(core.stats.duplicate_data, 0);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

/* ---- netascii ---------------------------------------------------------------------- */

START_TEST(netascii_across_blocks)
{
  uint8_t b1[512], b2[512];
  static const char b3[] = "\ntail\r\nend\r";
  uint8_t want[1032];
  size_t w = 0;

  memset(b1, 'a', 511);
  b1[511] = '\r';          /* CR ... */
  b2[0] = '\0';            /* ... NUL: a bare CR */
  memset(b2 + 1, 'b', 510);
  b2[511] = '\r';          /* CR ... */
  memset(want, 'a', 511);  /* ... LF (first byte of b3): a newline */
  w = 511;
  want[w++] = '\r';
  memset(want + w, 'b', 510);
  w += 510;
  memcpy(want + w, "\ntail\nend\r", 10);  /* the trailing lone CR is kept */
  w += 10;
  ck_assert_uint_eq(w, sizeof(want));

  wrq_opts(&peer_a, "NetAscii", 0, "tsize", "1035", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "tsize\0" "1035\0");
  ck_assert_uint_eq(sink.expected, 0);  /* tsize counts wire bytes in netascii */
  data(&peer_a, 1, b1, 512, 10);
  ck_assert_uint_eq(sink.len, 511);     /* the CR waits for its partner */
  data(&peer_a, 2, b2, 512, 20);
  data(&peer_a, 3, (const uint8_t *)b3, sizeof(b3) - 1, 30);
  assert_ack(last_sent(), &peer_a, 3);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.len, sizeof(want));
  ck_assert_mem_eq(sink.buf, want, sizeof(want));
}
END_TEST

START_TEST(netascii_final_empty_block_flushes_cr)
{
  uint8_t b1[512];
  memset(b1, 'z', 511);
  b1[511] = '\r';
  wrq(&peer_a, "netascii", 0);
  data(&peer_a, 1, b1, 512, 10);
  data(&peer_a, 2, NULL, 0, 20);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.len, 512);
  ck_assert_mem_eq(sink.buf, b1, 512);
}
END_TEST

START_TEST(netascii_random_round_trip)
{
  enum { LEN = 30000 };
  uint8_t *file = malloc(LEN), *wire = malloc(2 * LEN);
  uint32_t rng = 77;
  size_t n = 0;
  ck_assert(file && wire);
  for (size_t i = 0; i < LEN; i++) {
    uint32_t r = tl_rand(&rng);
    file[i] = (r & 1) ? "\r\n\0\r"[(r >> 8) & 3] : (uint8_t)(r >> 24);
  }
  for (size_t i = 0; i < LEN; i++) {  /* tftp-hpa's client: LF -> CR LF, CR -> CR NUL */
    if (file[i] == '\n') {
      wire[n++] = '\r';
      wire[n++] = '\n';
    } else if (file[i] == '\r') {
      wire[n++] = '\r';
      wire[n++] = '\0';
    } else {
      wire[n++] = file[i];
    }
  }
  wrq(&peer_a, "netascii", 0);
  uint16_t b = 0;
  size_t off = 0;
  for (;;) {
    size_t len = n - off < 512 ? n - off : 512;
    b++;
    data(&peer_a, b, wire + off, len, b);
    assert_ack(last_sent(), &peer_a, b);
    off += len;
    if (len < 512)
      break;
  }
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.len, LEN);
  ck_assert_mem_eq(sink.buf, file, LEN);
  free(file);
  free(wire);
}
END_TEST

/* ---- options --------------------------------------------------------------------- */

START_TEST(tsize_passed_to_sink)
{
  wrq_opts(&peer_a, "octet", 0, "tsize", "20001", (const char *)NULL);
  ck_assert_uint_eq(sink.expected, 20001);
  ck_assert_uint_eq(net.nsent, 1);
  assert_oack(sent(0), &peer_a, "\x00\x06" "tsize\0" "20001\0");
  tftp_core_shutdown(&core);

  wrq_opts(&peer_a, "octet", 0, "TSize", "7", (const char *)NULL);
  ck_assert_uint_eq(sink.expected, 7);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "tsize\0" "7\0");
  tftp_core_shutdown(&core);

  /* Not a number: as if absent, and with nothing else accepted no OACK: ACK 0. */
  wrq_opts(&peer_a, "octet", 0, "tsize", "12x", (const char *)NULL);
  ck_assert_uint_eq(sink.expected, 0);
  assert_ack(last_sent(), &peer_a, 0);
  tftp_core_shutdown(&core);

  /* netascii: tsize counts bytes on the wire, not the image: echoed, not passed on. */
  wrq_opts(&peer_a, "netascii", 0, "tsize", "300", (const char *)NULL);
  ck_assert_uint_eq(sink.expected, 0);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "tsize\0" "300\0");
}
END_TEST

/* The OACK names what was accepted, in the client's order, lower case, with the values the
 * transfer runs with; timeout sets the server's own retransmission interval. */
START_TEST(oack_exact_bytes)
{
  wrq_opts(&peer_a, "octet", 1000, "blksize", "1428", "tsize", "20001", "timeout", "3",
           "windowsize", "16", (const char *)NULL);
  ck_assert_uint_eq(net.nsent, 1);
  assert_oack(sent(0), &peer_a,
              "\x00\x06" "blksize\0" "1428\0" "tsize\0" "20001\0" "timeout\0" "3\0"
              "windowsize\0" "16\0");
  ck_assert_str_eq(net.events, "OSA");
  ck_assert_uint_eq(net.timer_delay_ms, 3000);
  ck_assert_uint_eq(sink.expected, 20001);
  ck_assert_uint_eq(core.blksize, 1428);
  ck_assert_uint_eq(core.windowsize, 16);
  tftp_core_shutdown(&core);

  wrq_opts(&peer_a, "octet", 0, "WindowSize", "8", "TSIZE", "5", "BlkSize", "600",
           (const char *)NULL);
  assert_oack(last_sent(), &peer_a,
              "\x00\x06" "windowsize\0" "8\0" "tsize\0" "5\0" "blksize\0" "600\0");
  tftp_core_shutdown(&core);

  /* curl's request as it sends it by default. */
  wrq_opts(&peer_a, "octet", 0, "tsize", "3000", "blksize", "512", "timeout", "6",
           (const char *)NULL);
  assert_oack(last_sent(), &peer_a,
              "\x00\x06" "tsize\0" "3000\0" "blksize\0" "512\0" "timeout\0" "6\0");
}
END_TEST

START_TEST(oack_values_capped)
{
  /* blksize: the largest a frame carries; windowsize: the default limit. */
  wrq_opts(&peer_a, "octet", 0, "blksize", "65464", "windowsize", "65535", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1468\0" "windowsize\0" "64\0");
  tftp_core_shutdown(&core);
  /* The smallest values are taken as they are. */
  wrq_opts(&peer_a, "octet", 0, "blksize", "8", "windowsize", "1", "timeout", "1",
           (const char *)NULL);
  assert_oack(last_sent(), &peer_a,
              "\x00\x06" "blksize\0" "8\0" "windowsize\0" "1\0" "timeout\0" "1\0");
  tftp_core_shutdown(&core);
  wrq_opts(&peer_a, "octet", 0, "timeout", "255", "blksize", "01428", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "timeout\0" "255\0" "blksize\0" "1428\0");
  ck_assert_uint_eq(net.timer_delay_ms, 255000);
  tftp_core_shutdown(&core);

  /* Lower limits from the caller (iapd --tftp-max-blksize, --tftp-max-windowsize). */
  const struct tftp_limits limits = { 512, 4 };
  tftp_core_init(&core, &fake_ops, &net, &mem_sink_ops, &sink, &limits);
  wrq_opts(&peer_a, "octet", 0, "blksize", "1428", "windowsize", "16", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "512\0" "windowsize\0" "4\0");
  tftp_core_shutdown(&core);
  wrq_opts(&peer_a, "octet", 0, "blksize", "100", "windowsize", "3", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "100\0" "windowsize\0" "3\0");
}
END_TEST

START_TEST(limits_brought_into_range)
{
  const struct tftp_limits low = { 0, 0 }, high = { 9000, 65535 };
  tftp_core_init(&core, &fake_ops, &net, &mem_sink_ops, &sink, &low);
  ck_assert_uint_eq(core.limits.max_blksize, 8);
  ck_assert_uint_eq(core.limits.max_windowsize, 1);
  tftp_core_init(&core, &fake_ops, &net, &mem_sink_ops, &sink, &high);
  ck_assert_uint_eq(core.limits.max_blksize, TFTP_BLKSIZE_MAX);
  ck_assert_uint_eq(core.limits.max_windowsize, 65535);
  tftp_core_init(&core, &fake_ops, &net, &mem_sink_ops, &sink, NULL);
  ck_assert_uint_eq(core.limits.max_blksize, 1468);
  ck_assert_uint_eq(core.limits.max_windowsize, 64);
}
END_TEST

/* Malformed and out-of-range values are left out of the OACK (never ERROR 8); unknown
 * options are ignored; a repeated option counts the first time only. Nothing left: ACK 0. */
START_TEST(oack_leaves_out_bad_values)
{
  static const char *const bad[][2] = {
    { "blksize", "7" }, { "blksize", "65465" }, { "blksize", "0" }, { "blksize", "1428x" },
    { "blksize", "" }, { "blksize", "-1" }, { "blksize", "+512" }, { "blksize", " 512" },
    { "blksize", "0x200" }, { "blksize", "4294967296" }, { "timeout", "0" },
    { "timeout", "256" }, { "timeout", "1.5" }, { "windowsize", "0" },
    { "windowsize", "65536" }, { "tsize", "-5" }, { "tsize", "4294967296" },
    { "multicast", "" }, { "rollover", "0" }, { "blocksize", "1024" }, { "utimeout", "500" },
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    unsigned before = net.nsent;
    wrq_opts(&peer_a, "octet", 0, bad[i][0], bad[i][1], (const char *)NULL);
    ck_assert_msg(net.nsent == before + 1, "case %zu: no answer", i);
    const struct sent_pkt *p = last_sent();
    ck_assert_msg(p->len == 4 && memcmp(p->bytes, "\x00\x04\x00\x00", 4) == 0,
                  "%s=\"%s\": want ACK 0, got %zu bytes %02x %02x", bad[i][0], bad[i][1],
                  p->len, p->bytes[0], p->bytes[1]);
    ck_assert_uint_eq(core.blksize, 512);
    ck_assert_uint_eq(core.windowsize, 1);
    ck_assert_uint_eq(net.timer_delay_ms, TFTP_TIMEOUT_MS);
    tftp_core_shutdown(&core);
  }
  /* A good option among bad ones: only it is echoed. */
  wrq_opts(&peer_a, "octet", 0, "foo", "bar", "blksize", "7", "windowsize", "8", "timeout",
           "300", "blksize", "1024", "windowsize", "2", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "windowsize\0" "8\0");
  ck_assert_uint_eq(core.blksize, 512);
  ck_assert_uint_eq(core.windowsize, 8);
  tftp_core_shutdown(&core);
  /* An option name without a value ends the packet: not an option. */
  uint8_t pkt[64];
  size_t len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "app.bin", "octet", "tsize", "9",
                             "blksize", (const char *)NULL);
  tftp_core_on_request(&core, &peer_a, pkt, len, 0);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "tsize\0" "9\0");
}
END_TEST

START_TEST(oack_retransmitted_like_ack_0)
{
  uint32_t t = 0;
  wrq_opts(&peer_a, "octet", t, "blksize", "1024", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1024\0");
  /* The WRQ again (the OACK was lost): the same OACK from the same port, nothing begun twice. */
  wrq_opts(&peer_a, "octet", t + 500, "blksize", "1024", (const char *)NULL);
  ck_assert_uint_eq(net.nsent, 2);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1024\0");
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_uint_eq(net.opens, 1);
  /* A DATA 0 is a copy of nothing: the OACK after the hold-off, nothing written. */
  data(&peer_a, 0, (const uint8_t *)"x", 1, t + 501);
  ck_assert_uint_eq(net.nsent, 2);
  data(&peer_a, 0, (const uint8_t *)"x", 1, t + 500 + TFTP_DUP_ACK_HOLDOFF_MS);
  ck_assert_uint_eq(net.nsent, 3);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1024\0");
  ck_assert_uint_eq(sink.writes, 0);
  t += 1000;
  for (unsigned r = 1; r <= TFTP_MAX_RETRIES; r++) {
    tftp_core_on_timer(&core, t += TFTP_TIMEOUT_MS);
    assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1024\0");
  }
  tftp_core_on_timer(&core, t += TFTP_TIMEOUT_MS);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "no DATA 1 after 5 re-sent OACKs");
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert(!tftp_core_busy(&core));
}
END_TEST

START_TEST(oack_then_data_1)
{
  /* DATA 1 answers the OACK; from then on ACKs, never the OACK again. */
  uint8_t file[1024 + 1024 + 10];
  pattern(file, sizeof(file), 40);
  wrq_opts(&peer_a, "octet", 0, "blksize", "1024", (const char *)NULL);
  data(&peer_a, 1, file, 1024, 10);
  assert_ack(last_sent(), &peer_a, 1);
  tftp_core_on_timer(&core, 10 + TFTP_TIMEOUT_MS);
  assert_ack(last_sent(), &peer_a, 1);
  wrq_opts(&peer_a, "octet", 1100, "blksize", "1024", (const char *)NULL);  /* late copy */
  ck_assert_uint_eq(net.nsent, 3);
  data(&peer_a, 2, file + 1024, 1024, 1200);
  assert_ack(last_sent(), &peer_a, 2);
  ck_assert_uint_eq(sink.finishes, 0);  /* 1024 bytes: a full block, not the last */
  data(&peer_a, 3, file + 2048, 10, 1300);
  assert_ack(last_sent(), &peer_a, 3);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.len, sizeof(file));
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(sink.writes, 3);
}
END_TEST

START_TEST(blksize_largest_blocks)
{
  /* 1468-byte blocks, the image a multiple of them: an empty DATA ends it. */
  enum { B = 1468, N = 5 };
  uint8_t file[N * B];
  pattern(file, sizeof(file), 41);
  wrq_opts(&peer_a, "octet", 0, "blksize", "1468", "tsize", "7340", (const char *)NULL);
  for (uint16_t b = 1; b <= N; b++) {
    data(&peer_a, b, file + (b - 1) * B, B, b);
    assert_ack(last_sent(), &peer_a, b);
  }
  ck_assert_uint_eq(sink.finishes, 0);
  data(&peer_a, N + 1, NULL, 0, 10);
  assert_ack(last_sent(), &peer_a, N + 1);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

START_TEST(blksize_data_too_long)
{
  uint8_t big[1469];
  pattern(big, sizeof(big), 42);
  wrq_opts(&peer_a, "octet", 0, "blksize", "1428", (const char *)NULL);
  data(&peer_a, 1, big, 1429, 10);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EBADOP,
               "DATA larger than the negotiated block size of 1428 bytes");
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(sink.writes, 0);
  /* A small block size: a 512-byte DATA is too long for it. */
  wrq_opts(&peer_a, "octet", 20, "blksize", "100", (const char *)NULL);
  data(&peer_a, 1, big, 100, 30);
  assert_ack(last_sent(), &peer_a, 1);
  data(&peer_a, 2, big, 512, 40);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EBADOP,
               "negotiated block size of 100 bytes");
  ck_assert_uint_eq(sink.aborts, 2);
}
END_TEST

START_TEST(timeout_option_sets_retransmit_and_dally)
{
  uint8_t file[600];
  uint32_t t = 0;
  pattern(file, sizeof(file), 43);
  wrq_opts(&peer_a, "octet", t, "timeout", "5", (const char *)NULL);
  ck_assert_uint_eq(net.timer_delay_ms, 5000);
  data(&peer_a, 1, file, 512, t += 10);
  ck_assert_uint_eq(net.timer_delay_ms, 5000);
  tftp_core_on_timer(&core, t += 5000);
  assert_ack(last_sent(), &peer_a, 1);
  ck_assert_uint_eq(net.timer_delay_ms, 5000);
  data(&peer_a, 2, file + 512, 88, t += 10);
  assert_ack(last_sent(), &peer_a, 2);
  ck_assert_uint_eq(net.timer_delay_ms, 10000);  /* dally: twice the client's timeout */
  tftp_core_shutdown(&core);
  /* A short timeout keeps the default dally. */
  wrq_opts(&peer_a, "octet", t, "timeout", "1", (const char *)NULL);
  data(&peer_a, 1, file, 3, t += 10);
  ck_assert_uint_eq(net.timer_delay_ms, TFTP_DALLY_MS);
}
END_TEST

START_TEST(tsize_mismatch_refused)
{
  uint8_t file[2048];
  pattern(file, sizeof(file), 44);
  /* Ends before the announced size: a client that ignored the OACK's blksize ends up here. */
  wrq_opts(&peer_a, "octet", 0, "blksize", "1024", "tsize", "2000", (const char *)NULL);
  data(&peer_a, 1, file, 512, 10);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "the transfer ended after 512 bytes, the client announced 2000 (tsize)");
  ck_assert_uint_eq(sink.finishes, 0);
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(sink.writes, 0);
  /* More than announced. */
  wrq_opts(&peer_a, "octet", 20, "tsize", "600", (const char *)NULL);
  data(&peer_a, 1, file, 512, 30);
  assert_ack(last_sent(), &peer_a, 1);
  data(&peer_a, 2, file + 512, 512, 40);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "the client announced 600 bytes (tsize) and sent more");
  ck_assert_uint_eq(sink.aborts, 2);
  ck_assert_uint_eq(sink.len, 512);
  /* One byte more, in the last block. */
  wrq_opts(&peer_a, "octet", 42, "tsize", "600", (const char *)NULL);
  data(&peer_a, 1, file, 512, 43);
  data(&peer_a, 2, file + 512, 89, 44);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "the client announced 600 bytes (tsize) and sent more");
  ck_assert_uint_eq(sink.finishes, 0);
  ck_assert_uint_eq(sink.aborts, 3);
  /* Exactly as announced. */
  wrq_opts(&peer_a, "octet", 50, "tsize", "600", (const char *)NULL);
  data(&peer_a, 1, file, 512, 60);
  data(&peer_a, 2, file + 512, 88, 70);
  assert_ack(last_sent(), &peer_a, 2);
  ck_assert_uint_eq(sink.finishes, 1);
  tftp_core_on_timer(&core, 10000);
  /* netascii: the wire size is not the image size; no check. */
  wrq_opts(&peer_a, "netascii", 20000, "tsize", "5", (const char *)NULL);
  data(&peer_a, 1, (const uint8_t *)"abc", 3, 20010);
  assert_ack(last_sent(), &peer_a, 1);
  ck_assert_uint_eq(sink.finishes, 2);
}
END_TEST

START_TEST(client_error_8_after_oack)
{
  wrq_opts(&peer_a, "octet", 0, "blksize", "1428", "windowsize", "16", (const char *)NULL);
  ck_assert_uint_eq(net.nsent, 1);
  session_raw(&peer_a, "\x00\x05\x00\x08" "option negotiation failed\0", 30, 10);
  ck_assert_uint_eq(net.nsent, 1);  /* an ERROR is not answered */
  ck_assert_uint_eq(sink.begins, 1);
  ck_assert_uint_eq(sink.writes, 0);
  ck_assert_uint_eq(sink.aborts, 1);
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!net.timer_armed);
  ck_assert(!tftp_core_busy(&core));
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
  tftp_core_on_timer(&core, 5000);
  ck_assert_uint_eq(net.nsent, 1);
  /* The board takes the next request. */
  wrq(&peer_b, "octet", 20);
  assert_ack(last_sent(), &peer_b, 0);
}
END_TEST

/* ---- windows (RFC 7440) ------------------------------------------------------------ */

/* The block numbers of the ACKs sent from packet `from` on, as a string "4 8 11". */
static const char *acks_since(unsigned from)
{
  static char buf[512];
  size_t n = 0;
  buf[0] = '\0';
  for (unsigned k = from; k < net.nsent; k++) {
    const struct sent_pkt *p = sent(k);
    ck_assert_msg(p->len == 4 && p->bytes[1] == TFTP_ACK, "packet %u is not an ACK", k);
    ck_assert_uint_lt(n + 7, sizeof(buf));
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%u", n ? " " : "",
                          (unsigned)(p->bytes[2] << 8 | p->bytes[3]));
  }
  return buf;
}

START_TEST(window_acks_every_wth_block)
{
  enum { B = 600 };
  uint8_t file[10 * B + 99];
  uint32_t t = 0;
  pattern(file, sizeof(file), 50);
  wrq_opts(&peer_a, "octet", t, "blksize", "600", "windowsize", "4", (const char *)NULL);
  assert_oack(sent(0), &peer_a, "\x00\x06" "blksize\0" "600\0" "windowsize\0" "4\0");
  for (uint16_t b = 1; b <= 11; b++) {
    unsigned arms = net.arms;
    data(&peer_a, b, file + (b - 1) * B, b < 11 ? B : 99, t += 2);
    ck_assert_uint_eq(net.arms, arms + 1);  /* every block in order re-arms the timer */
  }
  ck_assert_str_eq(acks_since(1), "4 8 11");
  ck_assert_uint_eq(net.timer_delay_ms, TFTP_DALLY_MS);
  ck_assert_uint_eq(sink.len, sizeof(file));
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(sink.writes, 11);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

START_TEST(window_gap_acks_last_in_order_once)
{
  enum { B = 512 };
  uint8_t file[20 * B + 1];
  uint32_t t = 0;
  pattern(file, sizeof(file), 51);
  wrq_opts(&peer_a, "octet", t, "windowsize", "8", (const char *)NULL);
  /* Window 1..8 with block 4 lost: ACK 3 once, when 5 shows the gap; 6 to 8 say nothing. */
  for (uint16_t b = 1; b <= 8; b++)
    if (b != 4)
      data(&peer_a, b, file + (b - 1) * B, B, t += 1);
  ck_assert_str_eq(acks_since(1), "3");
  ck_assert_uint_eq(core.stats.gap_acks, 1);
  ck_assert_uint_eq(sink.len, 3 * B);
  /* The client goes on from 4 with a full window: 4..11, ACK 11. */
  for (uint16_t b = 4; b <= 11; b++)
    data(&peer_a, b, file + (b - 1) * B, B, t += 1);
  ck_assert_str_eq(acks_since(1), "3 11");
  /* A gap right after a window's ACK (12 lost): ACK 11 again, once. */
  for (uint16_t b = 13; b <= 19; b++)
    data(&peer_a, b, file + (b - 1) * B, B, t += 1);
  ck_assert_str_eq(acks_since(1), "3 11 11");
  ck_assert_uint_eq(core.stats.gap_acks, 2);
  for (uint16_t b = 12; b <= 21; b++)
    data(&peer_a, b, file + (b - 1) * B, b < 21 ? B : 1, t += 1);
  ck_assert_str_eq(acks_since(1), "3 11 11 19 21");
  ck_assert_uint_eq(sink.len, sizeof(file));
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(sink.writes, 21);  /* each block once, in order */
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

START_TEST(window_duplicates_and_reordering)
{
  enum { B = 512 };
  uint8_t file[12 * B + 7];
  /* Window of 4; blocks arrive doubled and swapped. Each is written once, in order. */
  static const uint16_t order[] = {
    1, 1, 2, 3, 3, 4,        /* duplicates inside a window: ACK 4 only */
    5, 7, 6, 8,              /* 7 before 6: gap after 5 -> ACK 5; 6 in order; 8 gap -> ACK 6 */
    6, 7, 8, 9,              /* resumed after ACK 5: 6 held (ACK 6 just sent), 7 8 9 in order */
    7, 8, 9, 10,             /* resumed after ACK 6: 7 8 stale, 9 a copy inside the window */
    11, 12, 13, 13, 12,      /* 13 is the last (7 bytes); copies of it are dallied on */
  };
  uint32_t t = 0;
  pattern(file, sizeof(file), 52);
  wrq_opts(&peer_a, "octet", t, "windowsize", "4", (const char *)NULL);
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
    uint16_t b = order[i];
    data(&peer_a, b, file + (b - 1) * B, b < 13 ? B : 7, t += 1);
  }
  ck_assert_str_eq(acks_since(1), "4 5 6 10 13");
  ck_assert_uint_eq(sink.len, sizeof(file));
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(sink.writes, 13);
  ck_assert_uint_eq(core.stats.gap_acks, 2);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

START_TEST(window_timeout_acks_last_in_order)
{
  enum { B = 512 };
  uint8_t file[20 * B + 3];
  uint32_t t = 0;
  pattern(file, sizeof(file), 53);
  wrq_opts(&peer_a, "octet", t, "windowsize", "8", "timeout", "2", (const char *)NULL);
  for (uint16_t b = 1; b <= 5; b++)
    data(&peer_a, b, file + (b - 1) * B, B, t += 1);
  ck_assert_uint_eq(net.nsent, 1);  /* the OACK only: mid-window */
  ck_assert_uint_eq(net.timer_delay_ms, 2000);
  tftp_core_on_timer(&core, t += 2000);
  ck_assert_str_eq(acks_since(1), "5");
  ck_assert_uint_eq(core.stats.ack_retransmits, 1);
  /* The client resumes at 6 with a whole window. */
  for (uint16_t b = 6; b <= 21; b++)
    data(&peer_a, b, file + (b - 1) * B, b < 21 ? B : 3, t += 1);
  ck_assert_str_eq(acks_since(1), "5 13 21");
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
}
END_TEST

START_TEST(window_lost_ack_whole_window_again)
{
  /* The ACK of a window is lost: the client sends the window again after its timeout. Its
   * first blocks are stale and ignored; the last one is a copy of the block acknowledged and
   * is answered once. */
  enum { B = 512 };
  uint8_t file[8 * B + 5];
  uint32_t t = 0;
  pattern(file, sizeof(file), 54);
  wrq_opts(&peer_a, "octet", t, "windowsize", "4", (const char *)NULL);
  for (uint16_t b = 1; b <= 4; b++)
    data(&peer_a, b, file + (b - 1) * B, B, t += 1);
  ck_assert_str_eq(acks_since(1), "4");
  t += 1000;
  for (uint16_t b = 1; b <= 4; b++)
    data(&peer_a, b, file + (b - 1) * B, B, t += 1);
  ck_assert_str_eq(acks_since(1), "4 4");
  ck_assert_uint_eq(core.stats.duplicate_data, 1);
  ck_assert_uint_eq(core.stats.gap_acks, 0);
  for (uint16_t b = 5; b <= 9; b++)
    data(&peer_a, b, file + (b - 1) * B, b < 9 ? B : 5, t += 1);
  ck_assert_str_eq(acks_since(1), "4 4 8 9");
  ck_assert_uint_eq(sink.writes, 9);
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
}
END_TEST

START_TEST(window_sorcerers_apprentice)
{
  /* Every DATA of a window arrives twice, the window's last one crossing our ACK: one ACK per
   * window, no more. */
  enum { B = 512, W = 4, N = 40 };
  uint8_t file[(N - 1) * B + 100];
  uint32_t t = 0;
  pattern(file, sizeof(file), 55);
  wrq_opts(&peer_a, "octet", t, "windowsize", "4", (const char *)NULL);
  for (uint16_t b = 1; b <= N; b++) {
    size_t n = b < N ? B : 100;
    data(&peer_a, b, file + (b - 1) * B, n, t += 1);
    data(&peer_a, b, file + (b - 1) * B, n, t += 1);
  }
  ck_assert_str_eq(acks_since(1), "4 8 12 16 20 24 28 32 36 40");
  ck_assert_uint_eq(core.stats.duplicate_data, N);
  ck_assert_uint_eq(core.stats.duplicate_acks_held, N / W);
  ck_assert_uint_eq(sink.writes, N);
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
}
END_TEST

START_TEST(window_foreign_tid)
{
  enum { B = 512 };
  uint8_t file[6 * B + 1];
  pattern(file, sizeof(file), 56);
  wrq_opts(&peer_a, "octet", 0, "windowsize", "4", "blksize", "512", (const char *)NULL);
  data(&peer_a, 1, file, B, 1);
  data(&peer_a2, 2, file + B, B, 2);  /* another port of the same host */
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a2, TFTP_EBADID, "unknown transfer ID");
  data(&peer_b, 3, file, B, 3);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_b, TFTP_EBADID, "unknown transfer ID");
  for (uint16_t b = 2; b <= 7; b++)
    data(&peer_a, b, file + (b - 1) * B, b < 7 ? B : 1, 3 + b);
  ck_assert_uint_eq(net.nsent, 5);  /* OACK, two ERROR 5, ACK 4, ACK 7 */
  assert_ack(sent(3), &peer_a, 4);
  assert_ack(sent(4), &peer_a, 7);
  ck_assert_mem_eq(sink.buf, file, sizeof(file));
  ck_assert_uint_eq(core.stats.gap_acks, 0);
}
END_TEST

START_TEST(window_dally)
{
  uint8_t file[3 * 512 + 10];
  pattern(file, sizeof(file), 57);
  wrq_opts(&peer_a, "octet", 0, "windowsize", "8", (const char *)NULL);
  for (uint16_t b = 1; b <= 4; b++)
    data(&peer_a, b, file + (b - 1) * 512, b < 4 ? 512 : 10, b);
  ck_assert_str_eq(acks_since(1), "4");  /* the last block closes the window early */
  ck_assert_uint_eq(net.timer_delay_ms, TFTP_DALLY_MS);
  ck_assert(!tftp_core_busy(&core));
  data(&peer_a, 4, file + 3 * 512, 10, 5);     /* crossed the final ACK: held */
  data(&peer_a, 3, file + 2 * 512, 512, 6);    /* stale */
  ck_assert_str_eq(acks_since(1), "4");
  data(&peer_a, 4, file + 3 * 512, 10, 2000);  /* the final ACK was lost */
  ck_assert_str_eq(acks_since(1), "4 4");
  ck_assert_uint_eq(sink.writes, 4);
  tftp_core_on_timer(&core, 2000 + TFTP_DALLY_MS);
  ck_assert_uint_eq(net.closes, 1);
}
END_TEST

/* DATA k of the wrap test: its bytes depend on the whole block index. Every packet the core
 * answers with must be an ACK: after the wrap, block 0 is no longer the OACK's. */
static uint32_t wrap_crc;

static void wrap_data(uint32_t k, size_t n, uint32_t t)
{
  uint8_t payload[8];
  unsigned before = net.nsent;
  tl_put_le32(payload, k);
  tl_put_le32(payload + 4, ~k);
  data(&peer_a, (uint16_t)k, payload, n, t);
  if (net.nsent != before) {
    const struct sent_pkt *p = last_sent();
    ck_assert_msg(p->len == 4 && p->bytes[1] == TFTP_ACK, "block %u: answered with %zu bytes "
                  "of opcode %u, not an ACK", k, p->len, p->bytes[1]);
  }
}

START_TEST(window_block_number_wraps)
{
  /* 8-byte blocks in windows of 16 past block 65535, with a gap across the wrap. */
  const uint32_t full = 65536u + 40u;
  uint32_t t = 0, k;
  uint8_t payload[8];
  free(sink.buf);
  sink.buf = NULL;  /* length and CRC only */
  sink.cap = SIZE_MAX;
  wrap_crc = 0;
  wrq_opts(&peer_a, "octet", t, "blksize", "8", "windowsize", "16", (const char *)NULL);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "8\0" "windowsize\0" "16\0");
  for (k = 1; k <= 65530u; k++)
    wrap_data(k, 8, ++t);
  ck_assert_uint_eq(net.nsent - 1, 65530u / 16u);  /* 4095 windows, the last ending at 65520 */
  assert_ack(last_sent(), &peer_a, 65520);
  /* Window 65521..65536 (65536 is block 0): 65535 lost, then 0 arrives: a gap across the wrap. */
  for (k = 65531u; k <= 65536u; k++)
    if (k != 65535u)
      wrap_data(k, 8, ++t);
  assert_ack(last_sent(), &peer_a, 65534);
  ck_assert_uint_eq(core.stats.gap_acks, 1);
  /* Resume at 65535 with a window of 16: 65535, 0 (ACKed as 0, not with the OACK), 1, ... */
  for (k = 65535u; k <= 65535u + 15u; k++)
    wrap_data(k, 8, ++t);
  assert_ack(last_sent(), &peer_a, (uint16_t)(65535u + 15u));
  for (; k <= full; k++)
    wrap_data(k, 8, ++t);
  ck_assert_uint_eq(sink.writes, full);
  wrap_data(full + 1, 3, ++t);  /* the last block */
  assert_ack(last_sent(), &peer_a, (uint16_t)(full + 1));
  for (k = 1; k <= full + 1; k++) {
    tl_put_le32(payload, k);
    tl_put_le32(payload + 4, ~k);
    wrap_crc = crc32_update(wrap_crc, payload, k <= full ? 8 : 3);
  }
  ck_assert_uint_eq(sink.len, (size_t)full * 8 + 3);
  ck_assert_uint_eq(sink.crc, wrap_crc);
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
}
END_TEST

/* The OACK answers block 0 only before any DATA: a duplicate of block 0 after the wrap, and
 * the timer there, get ACK 0. */
START_TEST(window_wrap_block_0_is_acked)
{
  uint8_t payload[8] = { 0 };
  uint32_t t = 0;
  free(sink.buf);
  sink.buf = NULL;
  sink.cap = SIZE_MAX;
  wrq_opts(&peer_a, "octet", t, "blksize", "8", (const char *)NULL);
  for (uint32_t k = 1; k <= 65536u; k++)
    data(&peer_a, (uint16_t)k, payload, 8, ++t);
  assert_ack(last_sent(), &peer_a, 0);
  data(&peer_a, 0, payload, 8, t += TFTP_DUP_ACK_HOLDOFF_MS);
  assert_ack(last_sent(), &peer_a, 0);
  tftp_core_on_timer(&core, t += TFTP_TIMEOUT_MS);
  assert_ack(last_sent(), &peer_a, 0);
  wrq_opts(&peer_a, "octet", t, "blksize", "8", (const char *)NULL);  /* a very late WRQ copy */
  assert_ack(last_sent(), &peer_a, 0);
  ck_assert_uint_eq(net.nsent, 1u + 65536u + 2u);
}
END_TEST

START_TEST(window_netascii_large_blocks)
{
  /* netascii with 1468-byte blocks in windows: a CR at the end of a block pairs with the
   * first byte of the next, across the chunks the core decodes in. */
  enum { B = 1468 };
  uint8_t wire[2 * B + 2];
  uint8_t want[2 * B + 2];
  size_t nwant = 0;
  for (size_t i = 0; i < sizeof(wire); i++)
    wire[i] = (uint8_t)('a' + i % 26);
  wire[B - 1] = '\r';
  wire[B] = '\n';          /* CR LF across blocks 1 and 2 */
  wire[255] = '\r';
  wire[256] = '\0';        /* CR NUL across the decoder's chunks */
  wire[2 * B - 1] = '\r';
  wire[2 * B] = '\0';      /* CR NUL across blocks 2 and 3 */
  for (size_t i = 0; i < sizeof(wire); i++) {
    if (wire[i] == '\r' && i + 1 < sizeof(wire) && (wire[i + 1] == '\n' || wire[i + 1] == '\0')) {
      want[nwant++] = wire[i + 1] == '\n' ? '\n' : '\r';
      i++;
    } else {
      want[nwant++] = wire[i];
    }
  }
  wrq_opts(&peer_a, "netascii", 0, "blksize", "1468", "windowsize", "2", (const char *)NULL);
  data(&peer_a, 1, wire, B, 1);
  data(&peer_a, 2, wire + B, B, 2);
  data(&peer_a, 3, wire + 2 * B, 2, 3);
  ck_assert_str_eq(acks_since(1), "2 3");
  ck_assert_uint_eq(sink.finishes, 1);
  ck_assert_uint_eq(sink.len, nwant);
  ck_assert_mem_eq(sink.buf, want, nwant);
}
END_TEST

/* ---- with the flash writer over the emulated chip ------------------------------------ */

START_TEST(writer_full_upload)
{
  const size_t size = 20001;
  uint8_t *img = tl_app(size, 30);
  uint16_t b = 0;
  wrq_tsize(&peer_a, "octet", "20001", 0);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1428\0" "tsize\0" "20001\0");
  for (size_t off = 0; off <= size; off += 1428) {
    size_t n = size - off < 1428 ? size - off : 1428;
    b++;
    data(&peer_a, b, img + off, n, b);
    assert_ack(last_sent(), &peer_a, b);
  }
  ck_assert_uint_eq(b, 15);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE + (uint32_t)size, 1000));
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  free(img);
}
END_TEST

START_TEST(writer_tsize_over_capacity)
{
  char tsize[16];
  uint8_t *before = tl_flash_snapshot(&flash);
  snprintf(tsize, sizeof(tsize), "%u", TL_USER_CAPACITY + 1);
  wrq_tsize(&peer_a, "octet", tsize, 0);
  ck_assert_uint_eq(net.nsent, 1);  /* the ERROR instead of the OACK */
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a, TFTP_ENOSPACE,
               "image too large: 982913 bytes, the user flash 0x08010000-0x080fff7f holds "
               "982912 bytes");
  ck_assert_uint_eq(net.opens, 0);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  /* Exactly the capacity is taken. */
  snprintf(tsize, sizeof(tsize), "%u", TL_USER_CAPACITY);
  wrq_tsize(&peer_a, "octet", tsize, 0);
  assert_oack(last_sent(), &peer_a, "\x00\x06" "blksize\0" "1428\0" "tsize\0" "982912\0");
  ck_assert(iap_writer_busy(&writer));
  tftp_core_shutdown(&core);
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  free(before);
}
END_TEST

START_TEST(writer_oversize_via_data)
{
  const uint32_t blocks = TL_USER_CAPACITY / 512;  /* 1919: 384 bytes short of full */
  uint8_t *img = tl_app(TL_USER_CAPACITY + 512, 31);
  uint32_t b;
  wrq(&peer_a, "octet", 0);
  for (b = 1; b <= blocks; b++) {
    data(&peer_a, (uint16_t)b, img + (b - 1) * 512, 512, b);
    if (b == blocks || b % 256 == 0)
      assert_ack(last_sent(), &peer_a, (uint16_t)b);
  }
  ck_assert_uint_eq(net.nsent, 1 + blocks);
  data(&peer_a, (uint16_t)b, img + (b - 1) * 512, 512, b);  /* 128 bytes too many */
  ck_assert_uint_eq(net.nsent, 2 + blocks);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_ENOSPACE, "too large");
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert_uint_eq(core.stats.transfers_failed, 1);
  free(img);
}
END_TEST

START_TEST(writer_invalid_image_refused_on_data_1)
{
  uint8_t *img = tl_image(5000, TL_SP, 0x080001C9u, 32);  /* linked for 0x08000000 */
  uint8_t *before = tl_flash_snapshot(&flash);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, img, 512, 10);
  ck_assert_uint_eq(net.nsent, 2);
  assert_error(last_sent(), TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF,
               "image linked for 0x08000000, expected 0x08010000");
  ck_assert_uint_eq(net.closes, 1);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_total_erases(&flash), 0);
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  free(img);
  free(before);
}
END_TEST

START_TEST(writer_busy_with_other_protocol)
{
  struct iap_error err;
  ck_assert_int_eq(iap_writer_begin(&writer, "HTTP", "192.168.0.9", 0, &err), IAP_OK);
  wrq(&peer_a, "octet", 0);
  assert_error(last_sent(), TFTP_VIA_TRANSIENT, &peer_a, TFTP_EUNDEF, "busy");
  tl_assert_contains((const char *)last_sent()->bytes + 4, "HTTP");
  ck_assert_uint_eq(net.opens, 0);
  ck_assert(iap_writer_busy(&writer));  /* the HTTP upload goes on */
}
END_TEST

START_TEST(writer_aborted_by_client_error)
{
  uint8_t *img = tl_app(5000, 33);
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, img, 512, 10);
  data(&peer_a, 2, img + 512, 512, 20);
  ck_assert(iap_writer_busy(&writer));
  session_raw(&peer_a, "\x00\x05\x00\x00" "cancelled\0", 14, 30);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  /* The next WRQ gets the writer. */
  wrq(&peer_b, "octet", 40);
  assert_ack(last_sent(), &peer_b, 0);
  ck_assert(iap_writer_busy(&writer));
  free(img);
}
END_TEST

START_TEST(writer_windowed_upload_fills_user_flash)
{
  /* The whole user flash in 1468-byte blocks, windows of 16, block 100 lost once and every
   * 50th block arriving twice: the flash holds the image, each sector erased once. */
  enum { B = 1468, W = 16 };
  const size_t size = TL_USER_CAPACITY;
  const uint32_t nblocks = (uint32_t)(size / B) + 1;  /* 670, the last one short */
  uint8_t *img = tl_app(size, 34);
  char tsize[16];
  uint32_t t = 0, b = 1;
  bool lost = false;
  snprintf(tsize, sizeof(tsize), "%zu", size);
  wrq_opts(&peer_a, "octet", t, "blksize", "1468", "tsize", tsize, "windowsize", "16",
           (const char *)NULL);
  assert_oack(last_sent(), &peer_a,
              "\x00\x06" "blksize\0" "1468\0" "tsize\0" "982912\0" "windowsize\0" "16\0");
  while (b <= nblocks) {
    /* One window from b, as a client sends it after an ACK of b - 1. */
    uint32_t end = b + W - 1 < nblocks ? b + W - 1 : nblocks;
    unsigned before = net.nsent;
    for (uint32_t k = b; k <= end; k++) {
      size_t off = (size_t)(k - 1) * B, n = size - off < B ? size - off : B;
      if (k == 100 && !lost) {
        lost = true;
        continue;
      }
      data(&peer_a, (uint16_t)k, img + off, n, ++t);
      if (k % 50 == 0)
        data(&peer_a, (uint16_t)k, img + off, n, ++t);
    }
    ck_assert_uint_eq(net.nsent, before + 1);  /* one ACK per window, gap or not */
    const struct sent_pkt *p = last_sent();
    b = (uint32_t)(p->bytes[2] << 8 | p->bytes[3]) + 1;
  }
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
  ck_assert_uint_eq(core.stats.gap_acks, 1);
  ck_assert_mem_eq(tl_flash_at(&flash, TL_USER_BASE), img, size);
  for (unsigned sct = 0; sct < STM32_FLASH_SECTOR_COUNT; sct++)
    ck_assert_uint_eq(flash.model.erase_count[sct], sct >= 4 ? 1u : 0u);
  free(img);
}
END_TEST

START_TEST(writer_error_8_leaves_flash_unchanged)
{
  uint8_t *before;
  uint8_t *img = tl_app(5000, 35);
  /* A valid application first, so that "unchanged" means it is still there. */
  wrq(&peer_a, "octet", 0);
  for (uint16_t b = 1; b <= 10; b++)
    data(&peer_a, b, img + (b - 1) * 512, b < 10 ? 512 : 5000 - 9 * 512, b);
  ck_assert_uint_eq(core.stats.transfers_ok, 1);
  tftp_core_on_timer(&core, 10000);
  before = tl_flash_snapshot(&flash);
  unsigned erases = tl_total_erases(&flash);

  wrq_opts(&peer_b, "octet", 20000, "blksize", "1468", "windowsize", "64", "tsize", "5000",
           (const char *)NULL);
  assert_oack(last_sent(), &peer_b,
              "\x00\x06" "blksize\0" "1468\0" "windowsize\0" "64\0" "tsize\0" "5000\0");
  session_raw(&peer_b, "\x00\x05\x00\x08" "windowsize unsupported\0", 27, 20010);
  ck_assert(!iap_writer_busy(&writer));
  ck_assert(!tftp_core_busy(&core));
  ck_assert_uint_eq(tl_total_erases(&flash), erases);
  ck_assert_int_eq(memcmp(flash.mem, before, STM32_FLASH_SIZE), 0);
  struct boot_decision d;
  boot_decide(false, &user_area, flash.dev, &d);
  ck_assert_int_eq(d.mode, BOOT_APPLICATION);
  free(before);
  free(img);
}
END_TEST

/* ---- tftp_proto ------------------------------------------------------------------- */

START_TEST(parse_request_fields)
{
  uint8_t pkt[128];
  struct tftp_request req;
  const char *why = "unset";
  size_t len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "dir/app.bin", "Octet", "blksize",
                             "1428", "TSize", "4294967295", (const char *)NULL);
  ck_assert(tftp_parse_request(pkt, len, &req, &why));
  ck_assert_int_eq(req.opcode, TFTP_WRQ);
  ck_assert_str_eq(req.filename, "dir/app.bin");
  ck_assert_str_eq(req.mode_name, "Octet");
  ck_assert_ptr_eq(req.filename, (const char *)pkt + 2);  /* points into the packet */
  ck_assert_int_eq(req.mode, TFTP_MODE_OCTET);
  ck_assert_uint_eq(req.noptions, 2);
  ck_assert_str_eq(req.options[0].name, "blksize");
  ck_assert_str_eq(req.options[0].value, "1428");
  ck_assert_str_eq(req.options[1].name, "TSize");
  ck_assert_str_eq(req.options[1].value, "4294967295");

  len = build_request(pkt, sizeof(pkt), TFTP_RRQ, "f", "netascii", "tsize", "4294967296",
                      (const char *)NULL);
  ck_assert(tftp_parse_request(pkt, len, &req, &why));
  ck_assert_int_eq(req.opcode, TFTP_RRQ);
  ck_assert_int_eq(req.mode, TFTP_MODE_NETASCII);
  ck_assert_uint_eq(req.noptions, 1);  /* found; whether the value is good is not parse's */

  len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "f", "MAIL", "tsize", "", (const char *)NULL);
  ck_assert(tftp_parse_request(pkt, len, &req, &why));
  ck_assert_int_eq(req.mode, TFTP_MODE_MAIL);
  ck_assert_uint_eq(req.noptions, 1);
  ck_assert_str_eq(req.options[0].value, "");

  len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "f", "octets", "tsize", (const char *)NULL);
  ck_assert(tftp_parse_request(pkt, len, &req, &why));  /* an option without value */
  ck_assert_int_eq(req.mode, TFTP_MODE_UNKNOWN);
  ck_assert_uint_eq(req.noptions, 0);
}
END_TEST

START_TEST(parse_request_many_options)
{
  /* Eight pairs are read, further ones ignored. */
  uint8_t pkt[256];
  struct tftp_request req;
  const char *why;
  size_t len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "f", "octet",
                             "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7",
                             "tsize", "8", (const char *)NULL);
  ck_assert(tftp_parse_request(pkt, len, &req, &why));
  ck_assert_uint_eq(req.noptions, 8);
  ck_assert_str_eq(req.options[7].name, "tsize");
  ck_assert_str_eq(req.options[7].value, "8");
  len = build_request(pkt, sizeof(pkt), TFTP_WRQ, "f", "octet",
                      "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7",
                      "h", "8", "tsize", "9", (const char *)NULL);
  ck_assert(tftp_parse_request(pkt, len, &req, &why));
  ck_assert_uint_eq(req.noptions, 8);
  ck_assert_str_eq(req.options[7].name, "h");
}
END_TEST

START_TEST(option_names_and_values)
{
  static const struct { const char *name; enum tftp_option_name opt; } names[] = {
    { "blksize", TFTP_OPT_BLKSIZE }, { "BLKSIZE", TFTP_OPT_BLKSIZE },
    { "tsize", TFTP_OPT_TSIZE }, { "tSiZe", TFTP_OPT_TSIZE },
    { "timeout", TFTP_OPT_TIMEOUT }, { "Timeout", TFTP_OPT_TIMEOUT },
    { "windowsize", TFTP_OPT_WINDOWSIZE }, { "WINDOWSIZE", TFTP_OPT_WINDOWSIZE },
    { "blksize2", TFTP_OPT_UNKNOWN }, { "blksiz", TFTP_OPT_UNKNOWN }, { "", TFTP_OPT_UNKNOWN },
    { "multicast", TFTP_OPT_UNKNOWN }, { "window size", TFTP_OPT_UNKNOWN },
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    ck_assert_msg(tftp_option_lookup(names[i].name) == names[i].opt, "%s", names[i].name);
  ck_assert_str_eq(tftp_option_str(TFTP_OPT_BLKSIZE), "blksize");
  ck_assert_str_eq(tftp_option_str(TFTP_OPT_TSIZE), "tsize");
  ck_assert_str_eq(tftp_option_str(TFTP_OPT_TIMEOUT), "timeout");
  ck_assert_str_eq(tftp_option_str(TFTP_OPT_WINDOWSIZE), "windowsize");
  ck_assert_str_eq(tftp_option_str(TFTP_OPT_UNKNOWN), "?");

  static const struct { const char *text; bool ok; uint32_t v; } values[] = {
    { "0", true, 0 }, { "1428", true, 1428 }, { "01428", true, 1428 },
    { "4294967295", true, 4294967295u }, { "00000000000000000007", true, 7 },
    { "4294967296", false, 0 }, { "99999999999999999999", false, 0 }, { "", false, 0 },
    { "-1", false, 0 }, { "+1", false, 0 }, { " 1", false, 0 }, { "1 ", false, 0 },
    { "0x10", false, 0 }, { "1.5", false, 0 }, { "1e3", false, 0 },
  };
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    uint32_t v = 0xDEADBEEFu;
    ck_assert_msg(tftp_option_value(values[i].text, &v) == values[i].ok, "\"%s\"",
                  values[i].text);
    ck_assert_uint_eq(v, values[i].ok ? values[i].v : 0xDEADBEEFu);
  }
}
END_TEST

START_TEST(build_oack_bytes)
{
  uint8_t buf[32];
  size_t len;
  memset(buf, 0xEE, sizeof(buf));
  len = tftp_build_oack(buf);
  ck_assert_uint_eq(len, 2);
  len = tftp_oack_add(buf, sizeof(buf), len, "blksize", 1468);
  ck_assert_uint_eq(len, 15);
  len = tftp_oack_add(buf, sizeof(buf), len, "tsize", 0);
  ck_assert_uint_eq(len, 23);
  ck_assert_mem_eq(buf, "\x00\x06" "blksize\0" "1468\0" "tsize\0" "0\0" "\xEE", 24);
  /* "timeout\0" "255\0" needs 12 bytes, 9 are left: refused, nothing written. */
  ck_assert_uint_eq(tftp_oack_add(buf, sizeof(buf), len, "timeout", 255), 0);
  ck_assert_uint_eq(buf[23], 0xEE);
  /* Exactly fits. */
  len = tftp_oack_add(buf, sizeof(buf), len, "x", 429496u);
  ck_assert_uint_eq(len, 32);
  ck_assert_mem_eq(buf + 23, "x\0" "429496\0", 9);
  ck_assert_uint_eq(tftp_oack_add(buf, sizeof(buf), len, "", 0), 0);
  memset(buf, 0xEE, sizeof(buf));
  len = tftp_oack_add(buf, sizeof(buf), tftp_build_oack(buf), "tsize", 4294967295u);
  ck_assert_mem_eq(buf, "\x00\x06" "tsize\0" "4294967295\0" "\xEE", 20);
}
END_TEST

START_TEST(parse_request_rejects)
{
  struct tftp_request req;
  const char *why = NULL;
  ck_assert(!tftp_parse_request((const uint8_t *)"", 0, &req, &why));
  ck_assert_str_eq(why, "not a read or write request");
  ck_assert(!tftp_parse_request((const uint8_t *)"\x00", 1, &req, &why));
  ck_assert(!tftp_parse_request((const uint8_t *)"\x00\x03\x00\x01", 4, &req, &why));
  ck_assert_str_eq(why, "not a read or write request");
  ck_assert(!tftp_parse_request((const uint8_t *)"\x00\x02" "f\0octet", 9, &req, &why));
  ck_assert_str_eq(why, "malformed request: not NUL-terminated");
  ck_assert(!tftp_parse_request((const uint8_t *)"\x00\x02" "f\0", 4, &req, &why));
  ck_assert_str_eq(why, "malformed request: missing filename or mode");
  ck_assert(!tftp_parse_request((const uint8_t *)"\x00\x02\0octet\0", 9, &req, &why));
  ck_assert_str_eq(why, "malformed request: empty filename");
}
END_TEST

START_TEST(parse_request_reads_only_len)
{
  /* A copy on the heap, exactly len bytes: ASan catches any read past the end. */
  static const uint8_t good[] = "\x00\x02" "app.bin\0octet\0tsize\0" "123";
  for (size_t len = 0; len <= sizeof(good) - 1; len++) {
    uint8_t *p = malloc(len ? len : 1);
    struct tftp_request req;
    const char *why;
    memcpy(p, good, len);
    bool ok = tftp_parse_request(p, len, &req, &why);
    /* Only the cuts right after a NUL that leave filename and mode are requests. */
    ck_assert_int_eq(ok, len == 16 || len == 22);
    if (ok)
      ck_assert_uint_eq(req.noptions, 0);
    free(p);
  }
}
END_TEST

START_TEST(build_ack_bytes)
{
  uint8_t buf[6] = { 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE };
  ck_assert_uint_eq(tftp_build_ack(buf, 0x1234), 4);
  ck_assert_mem_eq(buf, "\x00\x04\x12\x34\xEE", 5);
  ck_assert_uint_eq(tftp_packet_opcode(buf, 4), TFTP_ACK);
  ck_assert_uint_eq(tftp_packet_opcode(buf, 1), 0);
  ck_assert_uint_eq(tftp_packet_block(buf), 0x1234);
  tftp_build_ack(buf, 65535);
  ck_assert_mem_eq(buf, "\x00\x04\xff\xff", 4);
}
END_TEST

START_TEST(build_error_bytes)
{
  uint8_t buf[32];
  memset(buf, 0xEE, sizeof(buf));
  ck_assert_uint_eq(tftp_build_error(buf, sizeof(buf), 3, "Disk full"), 14);
  ck_assert_mem_eq(buf, "\x00\x05\x00\x03" "Disk full\0\xEE", 15);

  /* Truncated to fit, NUL-terminated, nothing written past size. */
  memset(buf, 0xEE, sizeof(buf));
  ck_assert_uint_eq(tftp_build_error(buf, 10, 0, "hello world"), 10);
  ck_assert_mem_eq(buf, "\x00\x05\x00\x00" "hello\0\xEE", 11);

  /* Exactly fits. */
  memset(buf, 0xEE, sizeof(buf));
  ck_assert_uint_eq(tftp_build_error(buf, 10, 0x0102, "hello"), 10);
  ck_assert_mem_eq(buf, "\x00\x05\x01\x02" "hello\0\xEE", 11);

  /* The smallest buffer: an empty message. */
  memset(buf, 0xEE, sizeof(buf));
  ck_assert_uint_eq(tftp_build_error(buf, 5, 5, "unknown transfer ID"), 5);
  ck_assert_mem_eq(buf, "\x00\x05\x00\x05\0\xEE", 6);

  memset(buf, 0xEE, sizeof(buf));
  ck_assert_uint_eq(tftp_build_error(buf, sizeof(buf), 4, ""), 5);
  ck_assert_mem_eq(buf, "\x00\x05\x00\x04\0\xEE", 6);
}
END_TEST

START_TEST(long_sink_message_truncated_on_wire)
{
  /* A sink's message may be longer than an ERROR packet the core sends: the packet is cut,
   * still NUL-terminated, and starts with the message's own text. */
  char longmsg[sizeof(((struct iap_error *)0)->message)];
  memset(longmsg, 'm', sizeof(longmsg) - 1);
  memcpy(longmsg, "start of a long message", 23);
  longmsg[sizeof(longmsg) - 1] = '\0';
  sink.message = longmsg;
  sink.fail_finish = IAP_ERR_FLASH;
  wrq(&peer_a, "octet", 0);
  data(&peer_a, 1, (const uint8_t *)"x", 1, 10);
  const struct sent_pkt *p = last_sent();
  assert_error(p, TFTP_VIA_SESSION, &peer_a, TFTP_EUNDEF, "start of a long message");
  ck_assert_uint_lt(p->len, sizeof(longmsg) + 5);
  ck_assert_uint_ge(p->len, 100);
}
END_TEST

static Suite *tftp_suite(void)
{
  Suite *s = suite_create("tftp");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, wrq_octet_acks_block_0);
  tcase_add_test(tc, data_blocks_acked_then_dally);
  tcase_add_test(tc, empty_final_block);
  tcase_add_test(tc, duplicate_data_holdoff);
  tcase_add_test(tc, duplicate_of_block_0_after_wrq);
  tcase_add_test(tc, sorcerers_apprentice);
  tcase_add_test(tc, duplicate_wrq_same_peer);
  tcase_add_test(tc, wrq_from_other_peer_while_busy);
  tcase_add_test(tc, foreign_tid_gets_error_5);
  tcase_add_test(tc, rrq_refused);
  tcase_add_test(tc, malformed_requests);
  tcase_add_test(tc, mode_case_insensitive);
  tcase_add_test(tc, data_too_long);
  tcase_add_test(tc, data_too_short);
  tcase_add_test(tc, unexpected_opcode_on_session);
  tcase_add_test(tc, stale_and_future_blocks_ignored);
  tcase_add_test(tc, timeout_resends_then_gives_up);
  tcase_add_test(tc, timeout_retries_reset_by_progress);
  tcase_add_test(tc, client_error_aborts);
  tcase_add_test(tc, shutdown_mid_transfer);
  tcase_add_test(tc, shutdown_while_dallying);
  tcase_add_test(tc, dally_reacks_final_block);
  tcase_add_test(tc, open_session_fails);
  tcase_add_test(tc, sink_refuses_begin);
  tcase_add_test(tc, sink_write_fails);
  tcase_add_test(tc, sink_finish_fails);
  tcase_add_test(tc, session_packet_when_idle_ignored);
  tcase_add_test(tc, long_sink_message_truncated_on_wire);
  tcase_add_test(tc, block_number_wraps);
  tcase_add_test(tc, netascii_across_blocks);
  tcase_add_test(tc, netascii_final_empty_block_flushes_cr);
  tcase_add_test(tc, netascii_random_round_trip);
  suite_add_tcase(s, tc);

  tc = tcase_create("options");
  tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, tsize_passed_to_sink);
  tcase_add_test(tc, oack_exact_bytes);
  tcase_add_test(tc, oack_values_capped);
  tcase_add_test(tc, limits_brought_into_range);
  tcase_add_test(tc, oack_leaves_out_bad_values);
  tcase_add_test(tc, oack_retransmitted_like_ack_0);
  tcase_add_test(tc, oack_then_data_1);
  tcase_add_test(tc, blksize_largest_blocks);
  tcase_add_test(tc, blksize_data_too_long);
  tcase_add_test(tc, timeout_option_sets_retransmit_and_dally);
  tcase_add_test(tc, tsize_mismatch_refused);
  tcase_add_test(tc, client_error_8_after_oack);
  suite_add_tcase(s, tc);

  tc = tcase_create("window");
  tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, window_acks_every_wth_block);
  tcase_add_test(tc, window_gap_acks_last_in_order_once);
  tcase_add_test(tc, window_duplicates_and_reordering);
  tcase_add_test(tc, window_timeout_acks_last_in_order);
  tcase_add_test(tc, window_lost_ack_whole_window_again);
  tcase_add_test(tc, window_sorcerers_apprentice);
  tcase_add_test(tc, window_foreign_tid);
  tcase_add_test(tc, window_dally);
  tcase_add_test(tc, window_block_number_wraps);
  tcase_add_test(tc, window_wrap_block_0_is_acked);
  tcase_add_test(tc, window_netascii_large_blocks);
  suite_add_tcase(s, tc);

  tc = tcase_create("writer");
  tcase_add_checked_fixture(tc, writer_setup, writer_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, writer_full_upload);
  tcase_add_test(tc, writer_tsize_over_capacity);
  tcase_add_test(tc, writer_oversize_via_data);
  tcase_add_test(tc, writer_invalid_image_refused_on_data_1);
  tcase_add_test(tc, writer_busy_with_other_protocol);
  tcase_add_test(tc, writer_aborted_by_client_error);
  tcase_add_test(tc, writer_windowed_upload_fills_user_flash);
  tcase_add_test(tc, writer_error_8_leaves_flash_unchanged);
  suite_add_tcase(s, tc);

  tc = tcase_create("proto");
  tcase_add_test(tc, parse_request_fields);
  tcase_add_test(tc, parse_request_many_options);
  tcase_add_test(tc, parse_request_rejects);
  tcase_add_test(tc, parse_request_reads_only_len);
  tcase_add_test(tc, option_names_and_values);
  tcase_add_test(tc, build_oack_bytes);
  tcase_add_test(tc, build_ack_bytes);
  tcase_add_test(tc, build_error_bytes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(tftp_suite());
}
