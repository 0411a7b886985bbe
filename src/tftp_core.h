/*
 * The TFTP write server's protocol logic: one transfer at a time, received blocks streamed into
 * an image sink. No sockets and no clock here: the lwIP glue (tftp_server.c) feeds packets and
 * timer expiries in, with the time, and gives the core a small set of callbacks to send
 * packets, open the transfer's own port (its TID) and arm its one timer. Tests drive it the
 * same way and see every byte it sends.
 *
 * Behaviour (RFC 1350 with RFC 1123 4.2.3): a new TID per transfer; 512-byte blocks; block
 * numbers modulo 2^16; duplicate DATA re-ACKed without feeding the Sorcerer's Apprentice;
 * duplicate WRQ answered from the existing transfer; foreign TIDs get ERROR 5; the last ACK
 * is re-sent on timeout and the transfer aborted after TFTP_MAX_RETRIES; the server dallies
 * after the final ACK; octet and netascii modes; options other than tsize are ignored
 * (a plain ACK 0 is conformant, RFC 2347).
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

enum tftp_state { TFTP_IDLE, TFTP_RECEIVING, TFTP_DALLYING };

struct tftp_stats {
  uint32_t transfers_ok;
  uint32_t transfers_failed;
  uint32_t duplicate_data;      /* duplicates of the last block received */
  uint32_t duplicate_acks_held; /* of those, not answered (crossed our ACK) */
  uint32_t ack_retransmits;     /* ACKs re-sent on our own timeout */
};

struct tftp_core {
  const struct tftp_core_ops *ops;
  void *ctx;
  const struct image_sink_ops *sink;
  void *sink_ctx;

  enum tftp_state state;
  struct tftp_peer peer;
  char peer_text[24];
  bool netascii;
  struct netascii_decoder nad;
  uint16_t block;          /* last block acknowledged (0 after the WRQ) */
  uint32_t ack_sent_ms;    /* when the ACK of `block` last went out */
  unsigned retries;
  uint32_t wire_bytes;     /* DATA payload bytes received */
  struct tftp_stats stats;
};

void tftp_core_init(struct tftp_core *c, const struct tftp_core_ops *ops, void *ctx,
                    const struct image_sink_ops *sink, void *sink_ctx);

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
