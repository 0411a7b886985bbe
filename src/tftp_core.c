/* The TFTP write server's protocol logic (see tftp_core.h). */
#include "tftp_core.h"

#include <string.h>

#include "iap_format.h"
#include "log.h"

#define ERROR_PACKET_MAX 160

static bool same_peer(const struct tftp_peer *a, const struct tftp_peer *b)
{
  return a->port == b->port && memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

static void send_error(struct tftp_core *c, enum tftp_via via, const struct tftp_peer *to,
                       uint16_t code, const char *message)
{
  uint8_t pkt[ERROR_PACKET_MAX];
  size_t len = tftp_build_error(pkt, sizeof(pkt), code, message);
  c->ops->send(c->ctx, via, to, pkt, len);
}

/* Acknowledges `block`: with the OACK while no DATA came and options were accepted
 * (RFC 2347: the OACK takes the place of ACK 0), with an ACK otherwise. Every ACK closes a
 * window: the client sends the next one from the block after it (RFC 7440). */
static void send_ack(struct tftp_core *c, uint32_t now_ms)
{
  if (c->blocks == 0 && c->oack_len > 0) {
    c->ops->send(c->ctx, TFTP_VIA_SESSION, &c->peer, c->oack, c->oack_len);
  } else {
    uint8_t pkt[TFTP_HEADER_SIZE];
    tftp_build_ack(pkt, c->block);
    c->ops->send(c->ctx, TFTP_VIA_SESSION, &c->peer, pkt, sizeof(pkt));
  }
  c->ack_sent_ms = now_ms;
  c->acked = true;
  c->gap_acked = false;
  c->since_ack = 0;
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
                    const struct image_sink_ops *sink, void *sink_ctx,
                    const struct tftp_limits *limits)
{
  memset(c, 0, sizeof(*c));
  c->ops = ops;
  c->ctx = ctx;
  c->sink = sink;
  c->sink_ctx = sink_ctx;
  c->state = TFTP_IDLE;
  c->limits.max_blksize = limits ? limits->max_blksize : TFTP_BLKSIZE_MAX;
  c->limits.max_windowsize = limits ? limits->max_windowsize : TFTP_WINDOWSIZE_MAX;
  if (c->limits.max_blksize < TFTP_BLKSIZE_MIN)
    c->limits.max_blksize = TFTP_BLKSIZE_MIN;
  if (c->limits.max_blksize > TFTP_BLKSIZE_MAX)
    c->limits.max_blksize = TFTP_BLKSIZE_MAX;
  if (c->limits.max_windowsize < TFTP_WINDOWSIZE_MIN)
    c->limits.max_windowsize = TFTP_WINDOWSIZE_MIN;
}

bool tftp_core_busy(const struct tftp_core *c)
{
  return c->state == TFTP_RECEIVING;
}

/* The options a transfer runs with (RFC 2347): each known option the client sent, the first
 * time it sent it, with a well-formed value in the RFC's range, is accepted and goes into the
 * OACK with the value the server uses, in the client's order. Everything else is left out and
 * RFC 1350's value stays. */
static void negotiate(struct tftp_core *c, const struct tftp_request *req)
{
  bool seen[TFTP_OPT_WINDOWSIZE + 1] = { false };

  c->blksize = TFTP_BLOCK_SIZE;
  c->windowsize = 1;
  c->timeout_ms = TFTP_TIMEOUT_MS;
  c->dally_ms = TFTP_DALLY_MS;
  c->has_tsize = false;
  c->tsize = 0;
  c->oack_len = tftp_build_oack(c->oack);
  for (size_t i = 0; i < req->noptions; i++) {
    enum tftp_option_name opt = tftp_option_lookup(req->options[i].name);
    uint32_t v;
    if (opt == TFTP_OPT_UNKNOWN || seen[opt])
      continue;
    seen[opt] = true;
    if (!tftp_option_value(req->options[i].value, &v))
      continue;
    switch (opt) {
    case TFTP_OPT_BLKSIZE:
      if (v < TFTP_BLKSIZE_MIN || v > TFTP_BLKSIZE_LIMIT)
        continue;
      if (v > c->limits.max_blksize)
        v = c->limits.max_blksize;  /* RFC 2348: the server may answer a smaller size */
      c->blksize = (uint16_t)v;
      break;
    case TFTP_OPT_TSIZE:
      c->has_tsize = true;
      c->tsize = v;
      break;
    case TFTP_OPT_TIMEOUT:
      if (v < TFTP_TIMEOUT_MIN_S || v > TFTP_TIMEOUT_MAX_S)
        continue;
      c->timeout_ms = v * 1000u;
      if (2u * c->timeout_ms > c->dally_ms)
        c->dally_ms = 2u * c->timeout_ms;
      break;
    case TFTP_OPT_WINDOWSIZE:
      if (v < TFTP_WINDOWSIZE_MIN || v > TFTP_WINDOWSIZE_LIMIT)
        continue;
      if (v > c->limits.max_windowsize)
        v = c->limits.max_windowsize;
      c->windowsize = (uint16_t)v;
      break;
    default:
      continue;
    }
    /* Four options with at most ten digits each always fit TFTP_OACK_MAX. */
    c->oack_len = tftp_oack_add(c->oack, sizeof(c->oack), c->oack_len, tftp_option_str(opt), v);
  }
  if (c->oack_len <= 2)
    c->oack_len = 0;
}

/* "blksize 1428, windowsize 16" from the OACK, for the log line (called in its arguments, so
 * that a firmware built without log text, IAP_LOG 0, has none of it). */
static const char *describe_oack(const struct tftp_core *c, char *buf, size_t size)
{
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 2; i < c->oack_len && n < size;) {
    const char *name = (const char *)c->oack + i;
    const char *value = name + strlen(name) + 1;
    int w = iap_snprintf(buf + n, size - n, "%s%s %s", n ? ", " : "", name, value);
    if (w < 0)
      break;
    n += (size_t)w;
    i = (size_t)((const uint8_t *)value + strlen(value) + 1 - c->oack);
  }
  return buf;
}

static void start_transfer(struct tftp_core *c, const struct tftp_peer *from,
                           const struct tftp_request *req, uint32_t now_ms)
{
  struct iap_error err;
  char peer_text[sizeof(c->peer_text)];
  char options[TFTP_OACK_MAX + 16];
  uint32_t expected;

  negotiate(c, req);
  /* tsize (RFC 2349) is the size on the wire; in netascii that is not the image size. */
  expected = (c->has_tsize && req->mode == TFTP_MODE_OCTET) ? c->tsize : 0;
  iap_format_ip4(peer_text, from->ip);
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
  c->blocks = 0;
  c->retries = 0;
  c->wire_bytes = 0;
  log_info("tftp", "transfer started from %s:%u: \"%s\", %s mode%s%s%s", c->peer_text,
           from->port, req->filename, c->netascii ? "netascii" : "octet",
           c->has_tsize ? "" : ", size not announced", c->oack_len ? ", OACK " : "",
           describe_oack(c, options, sizeof(options)));
  send_ack(c, now_ms);
  c->ops->arm_timer(c->ctx, c->timeout_ms);
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
      /* The client did not see ACK 0 (or the OACK) and asked again: answer from the transfer
       * we have, so nothing is erased twice. Once DATA 1 came, a late copy of the WRQ means
       * nothing. */
      if (c->blocks == 0)
        send_ack(c, now_ms);
      return;
    }
    char msg[96];
    iap_snprintf(msg, sizeof(msg), "board busy: a transfer from %s is in progress, try again later",
             c->peer_text);
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EUNDEF, msg);
    return;
  }
  if (c->state == TFTP_DALLYING)
    end_session(c);  /* the finished transfer's client moved on; a new one starts */
  if (req.mode == TFTP_MODE_MAIL || req.mode == TFTP_MODE_UNKNOWN) {
    char msg[96];
    iap_snprintf(msg, sizeof(msg), "transfer mode \"%.40s\" not supported: use octet (binary)",
             req.mode_name);
    send_error(c, TFTP_VIA_TRANSIENT, from, TFTP_EBADOP, msg);
    return;
  }
  start_transfer(c, from, &req, now_ms);
}

/* Decoded netascii goes to the sink in pieces of this many bytes, so that a large block
 * needs no block-sized buffer on the stack. */
#define NETASCII_CHUNK 256

static bool write_sink(struct tftp_core *c, const uint8_t *data, size_t n)
{
  struct iap_error err;
  if (n > 0 && c->sink->write(c->sink_ctx, data, n, &err) != IAP_OK) {
    fail_transfer(c, error_code_for(err.status), err.message);
    return false;
  }
  return true;
}

/* Takes the payload of the next DATA block; returns false when the transfer ended in error. */
static bool take_data(struct tftp_core *c, const uint8_t *payload, size_t len, bool last)
{
  struct iap_error err;

  /* RFC 2349: in octet mode tsize is the image size. A client that sends more, or ends
   * before it, has lost data (or ignored the blksize of the OACK, so that a full block of
   * its own looks short to us): the image is refused before it can become bootable. */
  if (c->has_tsize && !c->netascii) {
    uint32_t left = c->tsize - c->wire_bytes;  /* wire_bytes never passes tsize */
    char msg[96];
    if (len > left) {
      iap_snprintf(msg, sizeof(msg), "the client announced %u bytes (tsize) and sent more",
               (unsigned)c->tsize);
      fail_transfer(c, TFTP_EUNDEF, msg);
      return false;
    }
    if (last && len != left) {
      iap_snprintf(msg, sizeof(msg), "the transfer ended after %u bytes, the client announced %u "
               "(tsize)", (unsigned)(c->wire_bytes + len), (unsigned)c->tsize);
      fail_transfer(c, TFTP_EUNDEF, msg);
      return false;
    }
  }
  if (c->netascii) {
    uint8_t decoded[NETASCII_CHUNK + 1];
    for (size_t off = 0; off < len; off += NETASCII_CHUNK) {
      size_t n = len - off < NETASCII_CHUNK ? len - off : NETASCII_CHUNK;
      if (!write_sink(c, decoded, netascii_decode(&c->nad, payload + off, n, decoded)))
        return false;
    }
    if (last && !write_sink(c, decoded, netascii_finish(&c->nad, decoded)))
      return false;
  } else if (!write_sink(c, payload, len)) {
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
  payload_len = len - TFTP_HEADER_SIZE;
  if (payload_len > c->blksize) {
    char msg[80];
    if (c->blksize == TFTP_BLOCK_SIZE && !c->oack_len)
      iap_snprintf(msg, sizeof(msg), "DATA larger than 512 bytes: no block size was negotiated");
    else
      iap_snprintf(msg, sizeof(msg), "DATA larger than the negotiated block size of %u bytes",
               (unsigned)c->blksize);
    fail_transfer(c, TFTP_EBADOP, msg);
    return;
  }
  block = tftp_packet_block(pkt);

  if (block == c->block) {
    /* A copy of the last block received (or of the final block while dallying). */
    c->stats.duplicate_data++;
    if (!c->acked)
      return;  /* inside a window: the ACK at its end answers it */
    if ((uint32_t)(now_ms - c->ack_sent_ms) >= TFTP_DUP_ACK_HOLDOFF_MS)
      send_ack(c, now_ms);
    else
      c->stats.duplicate_acks_held++;
    return;
  }
  if (c->state != TFTP_RECEIVING)
    return;
  uint16_t ahead = (uint16_t)(block - c->block);
  if (ahead != 1) {
    /* Past a gap inside the window: RFC 7440 section 4, the receiver ACKs the last block it
     * received in order and the sender goes on from the one after it. Once per gap: the rest
     * of the window arrives past the same gap and must not multiply the ACKs. Anything else is
     * stale (or, in lock-step, from the future): the client's own timeout sorts it out. */
    if (ahead <= c->windowsize && !c->gap_acked) {
      c->stats.gap_acks++;
      send_ack(c, now_ms);
      c->gap_acked = true;
      c->ops->arm_timer(c->ctx, c->timeout_ms);
    }
    return;
  }

  bool last = payload_len < c->blksize;
  if (!take_data(c, pkt + TFTP_HEADER_SIZE, payload_len, last))
    return;
  c->block = block;
  c->blocks++;
  c->acked = false;
  c->gap_acked = false;
  c->since_ack++;
  c->retries = 0;
  if (last) {
    send_ack(c, now_ms);
    c->state = TFTP_DALLYING;
    c->ops->arm_timer(c->ctx, c->dally_ms);
    return;
  }
  if (c->since_ack >= c->windowsize)
    send_ack(c, now_ms);
  c->ops->arm_timer(c->ctx, c->timeout_ms);
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
    iap_snprintf(msg, sizeof(msg), "transfer timed out: no DATA %u after %u re-sent %s",
             (unsigned)(uint16_t)(c->block + 1), (unsigned)TFTP_MAX_RETRIES,
             c->blocks == 0 && c->oack_len ? "OACKs" : "ACKs");
    log_warn("tftp", "client %s: %s", c->peer_text, msg);
    fail_transfer(c, TFTP_EUNDEF, msg);
    return;
  }
  /* Inside a window this is the first ACK of `block`: the client goes on from the block
   * after it. */
  c->retries++;
  c->stats.ack_retransmits++;
  send_ack(c, now_ms);
  c->ops->arm_timer(c->ctx, c->timeout_ms);
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
