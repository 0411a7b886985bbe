/*
 * The emulated board's Ethernet port as an lwIP netif, over a frame device: a TAP (tapif.h)
 * or an existing interface through libpcap (pcapif.h). The device only moves whole frames;
 * this layer owns the netif, counts frames, and shows every frame in both directions to an
 * optional observer (the --pcap capture) at the moment it crosses the emulated MAC.
 *
 * A stall (a flash operation: the CPU executes from the flash it programs, so it runs nothing
 * until the operation ends) is modelled here too: while stalled, frames that arrive wait in
 * a receive ring of the firmware's ETH_RX_DESC_COUNT descriptors and the rest are dropped,
 * as by the MAC; frames the board's code produced after the operation began are held and go
 * out when the stall ends (the CPU could not have run that code earlier).
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
#define NETIF_BACKEND_TX_HOLD   16     /* frames the code can produce right after an operation */

struct netif_backend_ops {
  const char *kind;    /* "tap", "pcap": for logs and /api/status */
  /* Sends one frame; false when it could not go out (a lost frame, as on a wire). */
  bool (*send)(void *dev, const uint8_t *frame, size_t len);
  /* Copies one waiting frame into buf: its length, 0 when none waits, -1 on an error. */
  ssize_t (*recv)(void *dev, uint8_t *buf, size_t size);
};

enum netif_backend_dir { NETIF_BACKEND_RX, NETIF_BACKEND_TX };

struct netif_backend_frame {
  uint16_t len;
  uint8_t data[NETIF_BACKEND_FRAME_MAX];
};

struct netif_backend {
  const struct netif_backend_ops *ops;
  void *dev;
  int fd;                 /* readable when frames wait */
  char ifname[16];
  uint8_t mac[6];         /* the board's MAC (lwIP side) */
  struct netif netif;
  uint32_t rx_frames, tx_frames, rx_dropped, tx_failed;
  /* the stall */
  bool stalled;
  bool powered_off;       /* frames sent now vanish: the board has no power */
  struct netif_backend_frame *rx_ring;   /* rx_ring_size frames */
  unsigned rx_ring_size, rx_ring_len;
  struct netif_backend_frame *tx_hold;   /* NETIF_BACKEND_TX_HOLD frames */
  unsigned tx_hold_len;
  uint32_t rx_dropped_stalled;  /* arrived while stalled with the ring full */
  uint32_t tx_dropped_stalled;  /* produced while stalled with the hold queue full */
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

/* The board stalls: frames wait (see above). Allocates the ring and the hold queue on first
 * use; false when out of memory (then nothing is held: frames flow as without a stall). */
bool netif_backend_stall(struct netif_backend *nb);

/* The stall ends: the held frames go out, then the frames in the ring go to lwIP one by one,
 * until one of them stalls the board again (the rest wait on). */
void netif_backend_resume(struct netif_backend *nb);

/* The power fails (powered_off true: held and queued frames are lost, frames sent vanish)
 * or comes back (false). */
void netif_backend_power(struct netif_backend *nb, bool on);

/* Frees the ring and the hold queue. */
void netif_backend_release(struct netif_backend *nb);

/* netif_add() init function; the netif's state is the struct netif_backend. */
err_t netif_backend_netif_init(struct netif *netif);

/* Hands the frames waiting on the device (a bounded batch, so timers are never starved) to
 * lwIP. */
void netif_backend_poll(struct netif_backend *nb);

#endif
