/*
 * The TFTP write server's protocol logic: one transfer at a time, received blocks streamed into
 * an image sink. No sockets and no clock here: the lwIP glue (tftp_server.c) feeds packets and
 * timer expiries in, with the time, and gives the core a small set of callbacks to send
 * packets, open the transfer's own port (its TID) and arm its one timer. Tests drive it the
 * same way and see every byte it sends.
 *
 * Behaviour (RFC 1350 with RFC 1123 4.2.3): a new TID per transfer; block numbers modulo
 * 2^16; duplicate DATA re-ACKed without feeding the Sorcerer's Apprentice; duplicate WRQ
 * answered from the existing transfer; foreign TIDs get ERROR 5; the last ACK is re-sent on
 * timeout and the transfer aborted after TFTP_MAX_RETRIES; the server dallies after the final
 * ACK; octet and netascii modes.
 *
 * Options (RFC 2347): blksize (RFC 2348), tsize and timeout (RFC 2349) and windowsize
 * (RFC 7440). When at least one is accepted, the WRQ is answered with an OACK that names the
 * accepted ones with the values the transfer runs with, in the order the client sent them;
 * the OACK stands for ACK 0 (re-sent on timeout, answered by DATA 1). Unknown options, and
 * known ones whose value is malformed or out of the RFC's range, are left out of the OACK (the
 * transfer runs with RFC 1350's value): the server never refuses a request with ERROR 8.
 * Without an accepted option the transfer is exactly RFC 1350's: ACK 0, 512-byte blocks.
 * With a window of W blocks the server ACKs every W-th block received in order (and the last);
 * a block that is not the next one is never written: a gap inside the window is answered once
 * with an ACK of the last block received in order, from which the client resumes.
 */
#ifndef IAPD_TFTP_CORE_H
#define IAPD_TFTP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image_sink.h"
#include "netascii.h"
#include "tftp_opts.h"
#include "tftp_proto.h"

struct tftp_peer {
  uint8_t ip[4];   /* IPv4 address, first octet first */
  uint16_t port;   /* host byte order */
};

/* Which local port a packet leaves from. */
enum tftp_via {
  TFTP_VIA_SESSION,    /* the transfer's own port (its TID) */
  TFTP_VIA_TRANSIENT,  /* a fresh port, for errors to requests that start no transfer */
};

struct tftp_core_ops {
  /* Opens the transfer's own port; false when it cannot (out of memory). */
  bool (*open_session)(void *ctx);
  void (*close_session)(void *ctx);
  void (*send)(void *ctx, enum tftp_via via, const struct tftp_peer *to, const uint8_t *pkt,
               size_t len);
  /* Arms the single timer to fire after delay_ms, replacing any armed one. */
  void (*arm_timer)(void *ctx, uint32_t delay_ms);
  void (*cancel_timer)(void *ctx);
};

/* What the server accepts of the options; set once, at init. */
struct tftp_limits {
  uint16_t max_blksize;     /* blksize answered at most: TFTP_BLKSIZE_MIN..TFTP_BLKSIZE_MAX */
  uint16_t max_windowsize;  /* windowsize answered at most: 1..65535 */
};

/* The longest OACK the core builds: the four options with their longest values. */
#define TFTP_OACK_MAX 64

enum tftp_state { TFTP_IDLE, TFTP_RECEIVING, TFTP_DALLYING };

struct tftp_stats {
  uint32_t transfers_ok;
  uint32_t transfers_failed;
  uint32_t duplicate_data;      /* duplicates of the last block received */
  uint32_t duplicate_acks_held; /* of those, not answered (crossed our ACK) */
  uint32_t ack_retransmits;     /* ACKs (or OACKs) re-sent on our own timeout */
  uint32_t gap_acks;            /* ACKs sent because a block inside a window went missing */
};

struct tftp_core {
  const struct tftp_core_ops *ops;
  void *ctx;
  const struct image_sink_ops *sink;
  void *sink_ctx;

  struct tftp_limits limits;

  enum tftp_state state;
  struct tftp_peer peer;
  char peer_text[24];
  bool netascii;
  struct netascii_decoder nad;
  /* What this transfer runs with: RFC 1350's values unless the OACK said otherwise. */
  uint16_t blksize;        /* 512 */
  uint16_t windowsize;     /* 1: lock-step */
  uint32_t timeout_ms;     /* TFTP_TIMEOUT_MS */
  uint32_t dally_ms;       /* TFTP_DALLY_MS */
  bool has_tsize;          /* the client announced the size (echoed in the OACK) */
  uint32_t tsize;
  uint8_t oack[TFTP_OACK_MAX];
  size_t oack_len;         /* 0: no option accepted, block 0 is answered with ACK 0 */

  uint16_t block;          /* last block received in order (0 after the WRQ) */
  uint32_t blocks;         /* blocks received in order: block without the wrap */
  bool acked;              /* `block` has been acknowledged (by ACK, or OACK for block 0) */
  bool gap_acked;          /* a gap after `block` was reported; more of it stay unanswered */
  uint16_t since_ack;      /* blocks received in order since the last ACK */
  uint32_t ack_sent_ms;    /* when the last ACK (or OACK) went out */
  unsigned retries;
  uint32_t wire_bytes;     /* DATA payload bytes received */
  struct tftp_stats stats;
};

/* limits NULL: { TFTP_BLKSIZE_MAX, TFTP_WINDOWSIZE_MAX }. Limits outside the ranges above
 * are brought into them. */
void tftp_core_init(struct tftp_core *c, const struct tftp_core_ops *ops, void *ctx,
                    const struct image_sink_ops *sink, void *sink_ctx,
                    const struct tftp_limits *limits);

/* A packet that arrived on port 69. */
void tftp_core_on_request(struct tftp_core *c, const struct tftp_peer *from,
                          const uint8_t *pkt, size_t len, uint32_t now_ms);

/* A packet that arrived on the transfer's own port. */
void tftp_core_on_session_packet(struct tftp_core *c, const struct tftp_peer *from,
                                 const uint8_t *pkt, size_t len, uint32_t now_ms);

/* The armed timer fired. */
void tftp_core_on_timer(struct tftp_core *c, uint32_t now_ms);

/* Ends any transfer (the board leaves IAP mode); an upload in progress is aborted. */
void tftp_core_shutdown(struct tftp_core *c);

bool tftp_core_busy(const struct tftp_core *c);

#endif
