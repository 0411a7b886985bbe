/* lwIP netif over a frame device (see netif_backend.h). */
#include "netif_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_opts.h"  /* ETH_RX_DESC_COUNT: the firmware's receive ring */

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#define RX_BATCH 64

void netif_backend_init(struct netif_backend *nb, const struct netif_backend_ops *ops,
                        void *dev, int fd, const char *ifname, const uint8_t mac[6])
{
  memset(nb, 0, sizeof(*nb));
  nb->ops = ops;
  nb->dev = dev;
  nb->fd = fd;
  snprintf(nb->ifname, sizeof(nb->ifname), "%s", ifname);
  memcpy(nb->mac, mac, 6);
}

void netif_backend_observe(struct netif_backend *nb,
                           void (*fn)(void *ctx, enum netif_backend_dir dir,
                                      const uint8_t *frame, size_t len),
                           void *ctx)
{
  nb->observer = fn;
  nb->observer_ctx = ctx;
}

static bool transmit(struct netif_backend *nb, const uint8_t *frame, size_t len)
{
  if (nb->observer)
    nb->observer(nb->observer_ctx, NETIF_BACKEND_TX, frame, len);
  if (!nb->ops->send(nb->dev, frame, len)) {
    nb->tx_failed++;
    return false;
  }
  nb->tx_frames++;
  return true;
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
  struct netif_backend *nb = netif->state;
  uint8_t frame[NETIF_BACKEND_FRAME_MAX];

  if (p->tot_len > sizeof(frame))
    return ERR_IF;
  if (nb->powered_off)
    return ERR_OK;  /* no power, no frame; the code that sent it does not know */
  if (nb->stalled) {
    if (nb->tx_hold_len == NETIF_BACKEND_TX_HOLD) {
      nb->tx_dropped_stalled++;
      return ERR_IF;
    }
    struct netif_backend_frame *f = &nb->tx_hold[nb->tx_hold_len++];
    f->len = p->tot_len;
    pbuf_copy_partial(p, f->data, p->tot_len, 0);
    return ERR_OK;
  }
  pbuf_copy_partial(p, frame, p->tot_len, 0);
  return transmit(nb, frame, p->tot_len) ? ERR_OK : ERR_IF;
}

bool netif_backend_stall(struct netif_backend *nb)
{
  if (nb->rx_ring == NULL) {
    nb->rx_ring_size = ETH_RX_DESC_COUNT;
    nb->rx_ring = calloc(nb->rx_ring_size, sizeof(*nb->rx_ring));
    nb->tx_hold = calloc(NETIF_BACKEND_TX_HOLD, sizeof(*nb->tx_hold));
    if (nb->rx_ring == NULL || nb->tx_hold == NULL) {
      netif_backend_release(nb);
      return false;
    }
  }
  nb->stalled = true;
  return true;
}

/* One frame to lwIP, as the MAC hands it over. */
static void deliver(struct netif_backend *nb, const uint8_t *frame, size_t n)
{
  if (!netif_is_up(&nb->netif)) {
    nb->rx_dropped++;  /* the bootloader's MAC is off: before IAP mode, or after the jump */
    return;
  }
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
  if (p == NULL) {
    nb->rx_dropped++;  /* out of pool buffers: dropped, as by a MAC with a full RX ring */
    return;
  }
  pbuf_take(p, frame, (u16_t)n);
  nb->rx_frames++;
  if (nb->netif.input(p, &nb->netif) != ERR_OK)
    pbuf_free(p);
}

void netif_backend_resume(struct netif_backend *nb)
{
  if (!nb->stalled)
    return;
  nb->stalled = false;
  for (unsigned i = 0; i < nb->tx_hold_len; i++)
    transmit(nb, nb->tx_hold[i].data, nb->tx_hold[i].len);
  nb->tx_hold_len = 0;
  unsigned taken = 0;
  while (taken < nb->rx_ring_len && !nb->stalled) {
    deliver(nb, nb->rx_ring[taken].data, nb->rx_ring[taken].len);
    taken++;
  }
  memmove(nb->rx_ring, nb->rx_ring + taken, (nb->rx_ring_len - taken) * sizeof(*nb->rx_ring));
  nb->rx_ring_len -= taken;
}

void netif_backend_power(struct netif_backend *nb, bool on)
{
  nb->powered_off = !on;
  if (!on) {
    nb->stalled = false;
    nb->rx_ring_len = 0;
    nb->tx_hold_len = 0;
  }
}

void netif_backend_release(struct netif_backend *nb)
{
  free(nb->rx_ring);
  free(nb->tx_hold);
  nb->rx_ring = NULL;
  nb->tx_hold = NULL;
  nb->rx_ring_size = nb->rx_ring_len = nb->tx_hold_len = 0;
  nb->stalled = false;
}

err_t netif_backend_netif_init(struct netif *netif)
{
  struct netif_backend *nb = netif->state;
  netif->name[0] = nb->ops->kind[0];
  netif->name[1] = nb->ops->kind[1];
  netif->output = etharp_output;
  netif->linkoutput = linkoutput;
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memcpy(netif->hwaddr, nb->mac, ETH_HWADDR_LEN);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

void netif_backend_poll(struct netif_backend *nb)
{
  uint8_t frame[NETIF_BACKEND_FRAME_MAX];

  for (int i = 0; i < RX_BATCH; i++) {
    ssize_t n = nb->ops->recv(nb->dev, frame, sizeof(frame));
    if (n <= 0)
      return;
    if (nb->powered_off)
      continue;  /* no power: the frame is lost, as on a dead board */
    if (nb->stalled) {
      /* The MAC's DMA fills the ring while the CPU stalls; with no descriptor left it
       * drops the frame. */
      if (nb->rx_ring_len == nb->rx_ring_size) {
        nb->rx_dropped_stalled++;
        continue;
      }
      if (nb->observer)
        nb->observer(nb->observer_ctx, NETIF_BACKEND_RX, frame, (size_t)n);
      nb->rx_ring[nb->rx_ring_len].len = (uint16_t)n;
      memcpy(nb->rx_ring[nb->rx_ring_len].data, frame, (size_t)n);
      nb->rx_ring_len++;
      continue;
    }
    if (nb->observer)
      nb->observer(nb->observer_ctx, NETIF_BACKEND_RX, frame, (size_t)n);
    deliver(nb, frame, (size_t)n);
  }
}
