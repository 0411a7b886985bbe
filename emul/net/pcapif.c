/* The libpcap network backend (see pcapif.h). */
#include "pcapif.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define SNAPLEN 65535

static const char *raw_hint =
  "iapd needs CAP_NET_RAW to attach to an interface: run it as root, or "
  "`setcap cap_net_admin,cap_net_raw+ep iapd`";

static bool pcapif_send(void *dev, const uint8_t *frame, size_t len)
{
  struct pcapif *p = dev;
  return pcap_inject(p->pcap, frame, len) == (int)len;
}

static ssize_t pcapif_recv(void *dev, uint8_t *buf, size_t size)
{
  struct pcapif *p = dev;
  struct pcap_pkthdr *h;
  const u_char *data;

  for (;;) {
    int rc = pcap_next_ex(p->pcap, &h, &data);
    if (rc != 1)
      return rc == 0 ? 0 : -1;
    if (h->caplen < h->len || h->caplen > size) {
      /* A frame no Ethernet MAC would take: likely GRO/TSO on the peer (see iapd(8)). */
      if (p->oversize++ == 0)
        log_warn("net", "%s: dropped a %u-byte frame, larger than an Ethernet frame (turn "
                 "off offloads on the peer: ethtool -K PEER tx off tso off gso off)",
                 p->name, h->len);
      continue;
    }
    memcpy(buf, data, h->caplen);
    return (ssize_t)h->caplen;
  }
}

const struct netif_backend_ops pcapif_ops = { "pcap", pcapif_send, pcapif_recv };

static int fail(struct pcapif *p, char *err, size_t err_size, const char *what, int rc)
{
  const char *detail = pcap_geterr(p->pcap);
  if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
    snprintf(err, err_size, "cannot attach to %s: no such interface", p->name);
  else if (rc == PCAP_ERROR_PERM_DENIED)
    snprintf(err, err_size, "cannot attach to %s: %s: %s", p->name, detail, raw_hint);
  else if (rc == PCAP_ERROR_IFACE_NOT_UP)
    snprintf(err, err_size, "cannot attach to %s: the interface is down (ip link set %s up)",
             p->name, p->name);
  else
    snprintf(err, err_size, "cannot attach to %s: %s: %s", p->name, what,
             detail && detail[0] ? detail : pcap_statustostr(rc));
  pcap_close(p->pcap);
  p->pcap = NULL;
  return -1;
}

int pcapif_open(struct pcapif *p, const char *name, char *err, size_t err_size)
{
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pc;
  int rc;

  memset(p, 0, sizeof(*p));
  snprintf(p->name, sizeof(p->name), "%s", name);
  pc = pcap_create(name, errbuf);
  if (pc == NULL) {
    snprintf(err, err_size, "cannot attach to %s: %s", name, errbuf);
    return -1;
  }
  p->pcap = pc;
  /* Frames must reach the board at once, whatever the kernel's buffering: immediate mode. */
  if ((rc = pcap_set_snaplen(pc, SNAPLEN)) != 0 || (rc = pcap_set_promisc(pc, 1)) != 0 ||
      (rc = pcap_set_immediate_mode(pc, 1)) != 0)
    return fail(p, err, err_size, "pcap settings", rc);
  rc = pcap_activate(pc);
  if (rc < 0)
    return fail(p, err, err_size, "pcap_activate", rc);
  if (rc > 0)
    log_warn("net", "%s: %s", name, pcap_statustostr(rc));
  if (pcap_datalink(pc) != DLT_EN10MB) {
    snprintf(err, err_size, "cannot attach to %s: it is not an Ethernet interface (link "
             "type %s)", name, pcap_datalink_val_to_name(pcap_datalink(pc)) ?
             pcap_datalink_val_to_name(pcap_datalink(pc)) : "unknown");
    pcap_close(pc);
    p->pcap = NULL;
    return -1;
  }
  /* Only frames from the wire: the board's own frames, injected here, are not its input. */
  if (pcap_setdirection(pc, PCAP_D_IN) != 0)
    return fail(p, err, err_size, "pcap_setdirection", PCAP_ERROR);
  if (pcap_setnonblock(pc, 1, errbuf) != 0) {
    snprintf(err, err_size, "cannot attach to %s: %s", name, errbuf);
    pcap_close(pc);
    p->pcap = NULL;
    return -1;
  }
  int fd = pcap_get_selectable_fd(pc);
  if (fd < 0) {
    snprintf(err, err_size, "cannot attach to %s: libpcap gives no descriptor to poll", name);
    pcap_close(pc);
    p->pcap = NULL;
    return -1;
  }
  return fd;
}

void pcapif_close(struct pcapif *p)
{
  if (p->pcap != NULL)
    pcap_close(p->pcap);
  p->pcap = NULL;
}
