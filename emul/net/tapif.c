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

#define TAP_DEVICE "/dev/net/tun"

static const char *cap_hint =
  "iapd needs CAP_NET_ADMIN: run it as root, or `setcap cap_net_admin+ep iapd`";

int tapif_open(struct tapif *t, const char *name, char *err, size_t err_size)
{
  struct ifreq ifr;

  memset(t, 0, sizeof(*t));
  t->fd = -1;
  snprintf(t->name, sizeof(t->name), "%s", name);
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

static bool tapif_send(void *dev, const uint8_t *frame, size_t len)
{
  const struct tapif *t = dev;
  /* A short write: the host side is down or its queue is full, a lost frame as on a wire. */
  return write(t->fd, frame, len) == (ssize_t)len;
}

static ssize_t tapif_recv(void *dev, uint8_t *buf, size_t size)
{
  const struct tapif *t = dev;
  ssize_t n = read(t->fd, buf, size);
  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
  return n;
}

const struct netif_backend_ops tapif_ops = { "tap", tapif_send, tapif_recv };

void tapif_close(struct tapif *t)
{
  if (t->fd >= 0)
    close(t->fd);
  t->fd = -1;
}
