/*
 * The third network backend, user-mode networking: the board's Ethernet port plugged into
 * libslirp, a small TCP/IP stack inside iapd, as QEMU's "-netdev user" does. It needs no TAP,
 * no capability and no network namespace. slirp plays the host on the board's network (at
 * the board's gateway address, with a DHCP server); the host reaches the board through
 * forwards, sockets of iapd's own (127.0.0.1:6969/udp, say) whose traffic slirp delivers to
 * a port of the board. The board's answers leave through other sockets of iapd's, as
 * through a NAT: a TFTP reply from a new port reaches the client from a new host port.
 *
 * Frames from the board go straight into slirp. Frames slirp sends to the board wait in a
 * bounded queue until netif_backend_poll() takes them; an eventfd is readable while any
 * wait, so the port is polled like a TAP. slirp's own sockets and timers join the main loop
 * through slirpif_poll_fill() and slirpif_poll_dispatch(). No threads; errors come back as
 * values with a message.
 */
#ifndef IAPD_SLIRPIF_H
#define IAPD_SLIRPIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netif_backend.h"
#include "poll_set.h"

#define SLIRPIF_QUEUE_FRAMES 64 /* > lwIP's TCP_WND in full frames, with room for ARP */
#define SLIRPIF_FORWARD_MAX 16
#define SLIRPIF_TIMER_MAX 4     /* libslirp 4.x creates one, for IPv6 router adverts */

/* slirp's network; addresses in network order (first octet first). */
struct slirpif_config {
  uint8_t network[4], netmask[4];
  uint8_t host[4];        /* slirp's own address: the board's gateway */
  uint8_t dhcp_start[4];  /* the first of the 16 addresses slirp's DHCP server leases */
  uint8_t board[4];       /* where forwards lead until slirpif_follow_board() moves them */
};

struct slirpif_forward {
  bool udp;
  uint8_t host_addr[4];
  uint16_t host_port, board_port;
};

struct slirpif_timer {
  bool used, armed;
  int64_t expire_ms;      /* CLOCK_MONOTONIC */
  void (*cb)(void *opaque);
  void *cb_opaque;
};

struct slirpif_frame {
  uint16_t len;
  uint8_t data[NETIF_BACKEND_FRAME_MAX];
};

struct Slirp;

struct slirpif {
  struct Slirp *slirp;
  int event_fd;                        /* readable while frames wait in the queue */
  struct slirpif_frame queue[SLIRPIF_QUEUE_FRAMES];
  unsigned head, count;
  uint32_t queue_full;                 /* frames for the board dropped: the queue was full */
  uint32_t oversize;                   /* frames for the board dropped: longer than Ethernet */
  struct slirpif_forward forwards[SLIRPIF_FORWARD_MAX];
  unsigned forward_count;
  uint8_t board[4];                    /* where the forwards lead */
  struct slirpif_timer timers[SLIRPIF_TIMER_MAX];
  struct poll_set *polling;            /* between slirpif_poll_fill and _dispatch */
};

/* slirp as a frame device for netif_backend_init(); dev is the struct slirpif. */
extern const struct netif_backend_ops slirpif_ops;

/* Starts slirp on cfg's network. Returns the descriptor to poll for frames (>= 0), or -1
 * with a message in err. */
int slirpif_open(struct slirpif *s, const struct slirpif_config *cfg, char *err,
                 size_t err_size);

/* Binds host_addr:host_port (tcp or udp) and forwards what arrives to the board's
 * board_port. Returns 0, or -1 with a message in err that names the host socket and says
 * why it cannot be bound (in use, a privileged port, not an address of this host). */
int slirpif_add_forward(struct slirpif *s, const struct slirpif_forward *f, char *err,
                        size_t err_size);

/* The board's address changed (a DHCP lease): every forward now leads to board. Returns 1
 * when they moved, 0 when they already led there, -1 with a message in err when a host port
 * could not be bound again (the others moved). */
int slirpif_follow_board(struct slirpif *s, const uint8_t board[4], char *err,
                         size_t err_size);

/* Before poll(): adds slirp's sockets to ps and lowers *timeout_ms to slirp's next deadline
 * (its TCP timers, its own timers). */
void slirpif_poll_fill(struct slirpif *s, struct poll_set *ps, int *timeout_ms);

/* After poll() on that set: slirp reads and writes its ready sockets and runs its due
 * timers. poll_failed: poll() returned an error, the revents mean nothing. */
void slirpif_poll_dispatch(struct slirpif *s, bool poll_failed);

void slirpif_close(struct slirpif *s);

/* The version of the libslirp iapd runs with, for the log. */
const char *slirpif_version(void);

#endif
