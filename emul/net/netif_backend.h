/*
 * The emulated board's Ethernet port as an lwIP netif, over a frame device: a TAP (tapif.h)
 * or an existing interface through libpcap (pcapif.h). The device only moves whole frames;
 * this layer owns the netif, counts frames, and shows every frame in both directions to an
 * optional observer (the --pcap capture) at the moment it crosses the emulated MAC.
 */
#ifndef IAPD_NETIF_BACKEND_H
#define IAPD_NETIF_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lwip/err.h"
#include "lwip/netif.h"

#define NETIF_BACKEND_FRAME_MAX 1518   /* Ethernet II without FCS, a VLAN tag allowed */

struct netif_backend_ops {
  const char *kind;    /* "tap", "pcap": for logs and /api/status */
  /* Sends one frame; false when it could not go out (a lost frame, as on a wire). */
  bool (*send)(void *dev, const uint8_t *frame, size_t len);
  /* Copies one waiting frame into buf: its length, 0 when none waits, -1 on an error. */
  ssize_t (*recv)(void *dev, uint8_t *buf, size_t size);
};

enum netif_backend_dir { NETIF_BACKEND_RX, NETIF_BACKEND_TX };

struct netif_backend {
  const struct netif_backend_ops *ops;
  void *dev;
  int fd;                 /* readable when frames wait */
  char ifname[16];
  uint8_t mac[6];         /* the board's MAC (lwIP side) */
  struct netif netif;
  uint32_t rx_frames, tx_frames, rx_dropped, tx_failed;
  void (*observer)(void *ctx, enum netif_backend_dir dir, const uint8_t *frame, size_t len);
  void *observer_ctx;
};

void netif_backend_init(struct netif_backend *nb, const struct netif_backend_ops *ops,
                        void *dev, int fd, const char *ifname, const uint8_t mac[6]);

/* Shows every frame to fn (NULL: none). */
void netif_backend_observe(struct netif_backend *nb,
                           void (*fn)(void *ctx, enum netif_backend_dir dir,
                                      const uint8_t *frame, size_t len),
                           void *ctx);

/* netif_add() init function; the netif's state is the struct netif_backend. */
err_t netif_backend_netif_init(struct netif *netif);

/* Hands the frames waiting on the device (a bounded batch, so timers are never starved) to
 * lwIP. */
void netif_backend_poll(struct netif_backend *nb);

#endif
