/* lwIP netif over a frame device (see netif_backend.h). */
#include "netif_backend.h"

#include <stdio.h>
#include <string.h>

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

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
  struct netif_backend *nb = netif->state;
  uint8_t frame[NETIF_BACKEND_FRAME_MAX];

  if (p->tot_len > sizeof(frame))
    return ERR_IF;
  pbuf_copy_partial(p, frame, p->tot_len, 0);
  if (nb->observer)
    nb->observer(nb->observer_ctx, NETIF_BACKEND_TX, frame, p->tot_len);
  if (!nb->ops->send(nb->dev, frame, p->tot_len)) {
    nb->tx_failed++;
    return ERR_IF;
  }
  nb->tx_frames++;
  return ERR_OK;
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
    if (nb->observer)
      nb->observer(nb->observer_ctx, NETIF_BACKEND_RX, frame, (size_t)n);
    if (!netif_is_up(&nb->netif)) {
      nb->rx_dropped++;  /* the bootloader's MAC is off: before IAP mode, or after the jump */
      continue;
    }
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
    if (p == NULL) {
      nb->rx_dropped++;  /* out of pool buffers: dropped, as by a MAC with a full RX ring */
      continue;
    }
    pbuf_take(p, frame, (u16_t)n);
    nb->rx_frames++;
    if (nb->netif.input(p, &nb->netif) != ERR_OK)
      pbuf_free(p);
  }
}
