/* The TFTP write server's protocol logic (see tftp_core.h). */
#include "tftp_core.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#define ERROR_PACKET_MAX 160

static bool same_peer(const struct tftp_peer *a, const struct tftp_peer *b)
{
  return a->port == b->port && memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

static void format_peer(const struct tftp_peer *p, char *buf, size_t size)
{
  snprintf(buf, size, "%u.%u.%u.%u", p->ip[0], p->ip[1], p->ip[2], p->ip[3]);
}

static void send_error(struct tftp_core *c, enum tftp_via via, const struct tftp_peer *to,
                       uint16_t code, const char *message)
{
  uint8_t pkt[ERROR_PACKET_MAX];
  size_t len = tftp_build_error(pkt, sizeof(pkt), code, message);
  c->ops->send(c->ctx, via, to, pkt, len);
}

static void send_ack(struct tftp_core *c, uint32_t now_ms)
{
  uint8_t pkt[TFTP_HEADER_SIZE];
  tftp_build_ack(pkt, c->block);
  c->ops->send(c->ctx, TFTP_VIA_SESSION, &c->peer, pkt, sizeof(pkt));
  c->ack_sent_ms = now_ms;
}

static void end_session(struct tftp_core *c)
{
  c->ops->cancel_timer(c->ctx);
  c->ops->close_session(c->ctx);
  c->state = TFTP_IDLE;
}

/* The transfer fails: tell the client why, drop the upload, free the port. */
static void fail_transfer(struct tftp_core *c, uint16_t code, const char *message)
{
  send_error(c, TFTP_VIA_SESSION, &c->peer, code, message);
  c->sink->abort(c->sink_ctx, message);
  c->stats.transfers_failed++;
  end_session(c);
}

static uint16_t error_code_for(enum iap_status status)
{
  return status == IAP_ERR_TOO_LARGE ? TFTP_ENOSPACE : TFTP_EUNDEF;
}

void tftp_core_init(struct tftp_core *c, const struct tftp_core_ops *ops, void *ctx,
                    const struct image_sink_ops *sink, void *sink_ctx)
{
  memset(c, 0, sizeof(*c));
  c->ops = ops;
  c->ctx = ctx;
  c->sink = sink;
  c->sink_ctx = sink_ctx;
  c->state = TFTP_IDLE;
}

bool tftp_core_busy(const struct tftp_core *c)
{
  return c->state == TFTP_RECEIVING;
}

static void start_transfer(struct tftp_core *c, const struct tftp_peer *from,
                           const struct tftp_request *req, uint32_t now_ms)
{
  struct iap_error err;
  char peer_text[sizeof(c->peer_text)];
  /* tsize (RFC 2349) is the size on the wire; in netascii that is not the image size. */
  uint32_t expected = (req->has_tsize && req->mode == TFTP_MODE_OCTET) ? req->tsize : 0;

  format_peer(from, peer_text, sizeof(peer_text));
  if (c->sink->begin(c->sink_ctx, "TFTP", peer_text, expected, &err) != IAP_OK) {
    send_error(c, TFTP_VIA_TRANSIENT, from, error_code_for(err.status), err.message);
    return;
  }
  if (!c->ops->open_session(c->ctx)) {
    c->sink->abort(c->sink_ctx, "no memory for a transfer port");
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EUNDEF, "board out of memory, try again");
    return;
  }
  c->state = TFTP_RECEIVING;
  c->peer = *from;
  memcpy(c->peer_text, peer_text, sizeof(c->peer_text));
  c->netascii = req->mode == TFTP_MODE_NETASCII;
  netascii_init(&c->nad);
  c->block = 0;
  c->retries = 0;
  c->wire_bytes = 0;
  log_info("tftp", "transfer started from %s:%u: \"%s\", %s mode%s", c->peer_text,
           from->port, req->filename, c->netascii ? "netascii" : "octet",
           expected ? "" : ", size not announced");
  send_ack(c, now_ms);
  c->ops->arm_timer(c->ctx, TFTP_TIMEOUT_MS);
}

void tftp_core_on_request(struct tftp_core *c, const struct tftp_peer *from,
                          const uint8_t *pkt, size_t len, uint32_t now_ms)
{
  struct tftp_request req;
  const char *why;
  uint16_t op = tftp_packet_opcode(pkt, len);

  if (op == TFTP_ERROR || op == 0)
    return;  /* never answer an error with an error */
  if (op != TFTP_WRQ && op != TFTP_RRQ) {
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EBADOP,
               "illegal TFTP operation: port 69 takes write requests only");
    return;
  }
  if (!tftp_parse_request(pkt, len, &req, &why)) {
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EBADOP, why);
    return;
  }
  if (req.opcode == TFTP_RRQ) {
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EACCESS,
               "this board only takes uploads (write requests); it does not serve files");
    return;
  }
  if (c->state == TFTP_RECEIVING) {
    if (same_peer(from, &c->peer)) {
      /* The client did not see ACK 0 and asked again: answer from the transfer we have, so
       * nothing is erased twice. Once DATA 1 came, a late copy of the WRQ means nothing. */
      if (c->block == 0)
        send_ack(c, now_ms);
      return;
    }
    char msg[96];
    snprintf(msg, sizeof(msg), "board busy: a transfer from %s is in progress, try again later",
             c->peer_text);
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EUNDEF, msg);
    return;
  }
  if (c->state == TFTP_DALLYING)
    end_session(c);  /* the finished transfer's client moved on; a new one starts */
  if (req.mode == TFTP_MODE_MAIL || req.mode == TFTP_MODE_UNKNOWN) {
    char msg[96];
    snprintf(msg, sizeof(msg), "transfer mode \"%.40s\" not supported: use octet (binary)",
             req.mode_name);
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EBADOP, msg);
    return;
  }
  start_transfer(c, from, &req, now_ms);
}

/* Takes the payload of the next DATA block; returns false when the transfer ended in error. */
static bool take_data(struct tftp_core *c, const uint8_t *payload, size_t len, bool last)
{
  uint8_t decoded[TFTP_BLOCK_SIZE + 2];
  const uint8_t *data = payload;
  size_t n = len;
  struct iap_error err;

  if (c->netascii) {
    n = netascii_decode(&c->nad, payload, len, decoded);
    if (last)
      n += netascii_finish(&c->nad, decoded + n);
    data = decoded;
  }
  if (n > 0 && c->sink->write(c->sink_ctx, data, n, &err) != IAP_OK) {
    fail_transfer(c, error_code_for(err.status), err.message);
    return false;
  }
  c->wire_bytes += (uint32_t)len;
  if (last) {
    struct iap_result result;
    if (c->sink->finish(c->sink_ctx, &result, &err) != IAP_OK) {
      fail_transfer(c, error_code_for(err.status), err.message);
      return false;
    }
    c->stats.transfers_ok++;
    log_info("tftp", "transfer from %s complete: %u bytes, CRC-32 0x%08x; reset to run it",
             c->peer_text, (unsigned)result.size, (unsigned)result.crc32);
  }
  return true;
}

static void on_data(struct tftp_core *c, const uint8_t *pkt, size_t len, uint32_t now_ms)
{
  uint16_t block;
  size_t payload_len;

  if (len < TFTP_HEADER_SIZE) {
    fail_transfer(c, TFTP_EBADOP, "malformed DATA packet");
    return;
  }
  if (len > TFTP_MAX_DATA_PACKET) {
    fail_transfer(c, TFTP_EBADOP, "DATA larger than 512 bytes: no block size was negotiated");
    return;
  }
  block = tftp_packet_block(pkt);
  payload_len = len - TFTP_HEADER_SIZE;

  if (block == c->block) {
    /* A copy of the block we acknowledged last (or of the final block while dallying). */
    c->stats.duplicate_data++;
    if ((uint32_t)(now_ms - c->ack_sent_ms) >= TFTP_DUP_ACK_HOLDOFF_MS)
      send_ack(c, now_ms);
    else
      c->stats.duplicate_acks_held++;
    return;
  }
  if (c->state != TFTP_RECEIVING || block != (uint16_t)(c->block + 1))
    return;  /* stale or from the future: the client's own timeout sorts it out */

  bool last = payload_len < TFTP_BLOCK_SIZE;
  if (!take_data(c, pkt + TFTP_HEADER_SIZE, payload_len, last))
    return;
  c->block = block;
  c->retries = 0;
  send_ack(c, now_ms);
  if (last) {
    c->state = TFTP_DALLYING;
    c->ops->arm_timer(c->ctx, TFTP_DALLY_MS);
  } else {
    c->ops->arm_timer(c->ctx, TFTP_TIMEOUT_MS);
  }
}

void tftp_core_on_session_packet(struct tftp_core *c, const struct tftp_peer *from,
                                 const uint8_t *pkt, size_t len, uint32_t now_ms)
{
  uint16_t op = tftp_packet_opcode(pkt, len);

  if (c->state == TFTP_IDLE)
    return;
  if (!same_peer(from, &c->peer)) {
    /* RFC 1350 section 4: a packet from a foreign TID gets ERROR 5; the transfer goes on. */
    if (op != TFTP_ERROR)
      send_error(c, TFTP_VIA_SESSION, from, TFTP_EBADID, "unknown transfer ID");
    return;
  }
  switch (op) {
  case TFTP_DATA:
    on_data(c, pkt, len, now_ms);
    return;
  case TFTP_ERROR: {
    char msg[64];
    size_t n = len > TFTP_HEADER_SIZE ? len - TFTP_HEADER_SIZE : 0;
    if (n >= sizeof(msg))
      n = sizeof(msg) - 1;
    memcpy(msg, pkt + (len > TFTP_HEADER_SIZE ? TFTP_HEADER_SIZE : 0), n);
    msg[n] = '\0';
    for (size_t i = 0; i < n; i++)
      if (msg[i] < 0x20 || msg[i] > 0x7E)
        msg[i] = msg[i] ? '?' : '\0';
    log_warn("tftp", "client %s ended the transfer: ERROR %u \"%s\"", c->peer_text,
             len >= TFTP_HEADER_SIZE ? tftp_packet_block(pkt) : 0u, msg);
    if (c->state == TFTP_RECEIVING) {
      c->sink->abort(c->sink_ctx, "the client sent an ERROR");
      c->stats.transfers_failed++;
    }
    end_session(c);
    return;
  }
  default:
    if (c->state == TFTP_DALLYING)
      return;
    fail_transfer(c, TFTP_EBADOP, "illegal TFTP operation during a write transfer");
    return;
  }
}

void tftp_core_on_timer(struct tftp_core *c, uint32_t now_ms)
{
  if (c->state == TFTP_DALLYING) {
    end_session(c);
    return;
  }
  if (c->state != TFTP_RECEIVING)
    return;
  if (c->retries >= TFTP_MAX_RETRIES) {
    char msg[96];
    snprintf(msg, sizeof(msg), "transfer timed out: no DATA %u after %u re-sent ACKs",
             (unsigned)(uint16_t)(c->block + 1), (unsigned)TFTP_MAX_RETRIES);
    log_warn("tftp", "client %s: %s", c->peer_text, msg);
    fail_transfer(c, TFTP_EUNDEF, msg);
    return;
  }
  c->retries++;
  c->stats.ack_retransmits++;
  send_ack(c, now_ms);
  c->ops->arm_timer(c->ctx, TFTP_TIMEOUT_MS);
}

void tftp_core_shutdown(struct tftp_core *c)
{
  if (c->state == TFTP_RECEIVING) {
    send_error(c, TFTP_VIA_SESSION, &c->peer, TFTP_EUNDEF, "board reset during the transfer");
    c->sink->abort(c->sink_ctx, "board reset");
    c->stats.transfers_failed++;
  }
  if (c->state != TFTP_IDLE)
    end_session(c);
}
