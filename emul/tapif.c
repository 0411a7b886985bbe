/* TAP netif for lwIP (see tapif.h). */
#include "tapif.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#define TAP_DEVICE "/dev/net/tun"
#define FRAME_MAX 1518          /* Ethernet II without FCS, VLAN tag allowed */
#define RX_BATCH 64             /* frames per poll, so timers are never starved */

static const char *cap_hint =
  "iapd needs CAP_NET_ADMIN: run it as root, or `setcap cap_net_admin+ep iapd`";

int tapif_open(struct tapif *t, const char *name, const uint8_t mac[6], char *err,
               size_t err_size)
{
  struct ifreq ifr;

  memset(t, 0, sizeof(*t));
  t->fd = -1;
  snprintf(t->name, sizeof(t->name), "%s", name);
  memcpy(t->mac, mac, 6);
  t->created = if_nametoindex(name) == 0;

  t->fd = open(TAP_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (t->fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENODEV)
      snprintf(err, err_size, "cannot open %s: %s: load the tun module (modprobe tun)",
               TAP_DEVICE, strerror(e));
    else
      snprintf(err, err_size, "cannot open %s: %s: %s", TAP_DEVICE, strerror(e), cap_hint);
    return -1;
  }
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
  if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    if (e == EPERM || e == EACCES)
      snprintf(err, err_size, "cannot %s TAP device %s: %s: %s",
               t->created ? "create" : "attach to", name, strerror(e), cap_hint);
    else if (e == EBUSY)
      snprintf(err, err_size, "TAP device %s is in use by another program (another iapd?)",
               name);
    else if (e == EINVAL)
      snprintf(err, err_size, "%s exists and is not a TAP device: pick another --tap name",
               name);
    else
      snprintf(err, err_size, "cannot set up TAP device %s: %s", name, strerror(e));
    close(t->fd);
    t->fd = -1;
    return -1;
  }
  return 0;
}

/* ioctl on the host side of the TAP through an AF_INET socket. */
static int host_ioctl(const struct tapif *t, unsigned long req, struct ifreq *ifr,
                      const char *what, char *err, size_t err_size)
{
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    snprintf(err, err_size, "cannot %s on %s: %s", what, t->name, strerror(errno));
    return -1;
  }
  snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", t->name);
  if (ioctl(s, req, ifr) < 0) {
    int e = errno;
    snprintf(err, err_size, "cannot %s on %s: %s%s%s", what, t->name, strerror(e),
             e == EPERM ? ": " : "", e == EPERM ? cap_hint : "");
    close(s);
    return -1;
  }
  close(s);
  return 0;
}

static void set_sockaddr(struct sockaddr *sa, uint32_t addr_be)
{
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = addr_be;
  memcpy(sa, &sin, sizeof(sin));
}

int tapif_set_host_up(const struct tapif *t, char *err, size_t err_size)
{
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  if (host_ioctl(t, SIOCGIFFLAGS, &ifr, "read the flags", err, err_size) < 0)
    return -1;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  return host_ioctl(t, SIOCSIFFLAGS, &ifr, "bring the link up", err, err_size);
}

int tapif_set_host_addr(const struct tapif *t, const uint8_t addr[4], unsigned prefix,
                        char *err, size_t err_size)
{
  struct ifreq ifr;
  uint32_t a, mask;

  memcpy(&a, addr, 4);
  mask = prefix == 0 ? 0 : htonl(0xFFFFFFFFu << (32 - prefix));
  memset(&ifr, 0, sizeof(ifr));
  set_sockaddr(&ifr.ifr_addr, a);
  if (host_ioctl(t, SIOCSIFADDR, &ifr, "set the host address", err, err_size) < 0)
    return -1;
  memset(&ifr, 0, sizeof(ifr));
  set_sockaddr(&ifr.ifr_netmask, mask);
  if (host_ioctl(t, SIOCSIFNETMASK, &ifr, "set the host netmask", err, err_size) < 0)
    return -1;
  return tapif_set_host_up(t, err, err_size);
}

static err_t tapif_linkoutput(struct netif *netif, struct pbuf *p)
{
  struct tapif *t = netif->state;
  uint8_t frame[FRAME_MAX];
  ssize_t n;

  if (p->tot_len > sizeof(frame))
    return ERR_IF;
  pbuf_copy_partial(p, frame, p->tot_len, 0);
  n = write(t->fd, frame, p->tot_len);
  if (n != (ssize_t)p->tot_len)
    return ERR_IF;  /* the host side is down or its queue is full: a lost frame, as on a wire */
  t->tx_frames++;
  return ERR_OK;
}

err_t tapif_netif_init(struct netif *netif)
{
  struct tapif *t = netif->state;
  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->output = etharp_output;
  netif->linkoutput = tapif_linkoutput;
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memcpy(netif->hwaddr, t->mac, ETH_HWADDR_LEN);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

void tapif_poll(struct tapif *t)
{
  uint8_t frame[FRAME_MAX];
  for (int i = 0; i < RX_BATCH; i++) {
    ssize_t n = read(t->fd, frame, sizeof(frame));
    if (n <= 0)
      return;  /* EAGAIN: nothing more waiting */
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
    if (!p)
      continue;  /* out of pool buffers: drop, as a MAC with a full RX ring would */
    pbuf_take(p, frame, (u16_t)n);
    t->rx_frames++;
    if (t->netif.input(p, &t->netif) != ERR_OK)
      pbuf_free(p);
  }
}

void tapif_close(struct tapif *t)
{
  if (t->fd >= 0)
    close(t->fd);
  t->fd = -1;
}
