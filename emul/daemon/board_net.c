/* The board's Ethernet port on each backend: a TAP (--tap), an existing interface through
 * libpcap (--attach) or user-mode networking (--user-net, libslirp), and the capture. */
#include "emul_board.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

static void log_ipv4(char *buf, size_t size, const uint8_t a[4])
{
  snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* --tap: a TAP device, its host side addressed unless told otherwise. */
static int setup_tap(struct emul_board *b, const char **how)
{
  const struct iapd_options *o = b->opt;
  char err[256];

  if (tapif_open(&b->tap, o->tap, err, sizeof(err)) < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  if (o->host_addr_mode == HOST_ADDR_SET
      || (o->host_addr_mode == HOST_ADDR_DEFAULT && b->tap.created)) {
    if (tapif_set_host_addr(&b->tap, o->host_addr, o->host_prefix, err, sizeof(err)) < 0) {
      log_err("net", "%s", err);
      return -1;
    }
    log_info("net", "host side of %s: %u.%u.%u.%u/%u", o->tap, o->host_addr[0],
             o->host_addr[1], o->host_addr[2], o->host_addr[3], o->host_prefix);
  } else if (b->tap.created && tapif_set_host_up(&b->tap, err, sizeof(err)) < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  netif_backend_init(&b->port, &tapif_ops, &b->tap, b->tap.fd, o->tap, o->mac);
  *how = b->tap.created ? "created" : "existing";
  return 0;
}

/* --attach: an existing interface through libpcap. */
static int setup_attach(struct emul_board *b, const char **how)
{
  const struct iapd_options *o = b->opt;
  char err[256];

  int fd = pcapif_open(&b->pcapif, o->attach, err, sizeof(err));
  if (fd < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  netif_backend_init(&b->port, &pcapif_ops, &b->pcapif, fd, o->attach, o->mac);
  *how = "attached with libpcap";
  return 0;
}

/* --user-net: slirp's network is the board's own (ip and netmask), slirp at the gateway's
 * address and leasing from host number 15 of the network. So the board's static default,
 * 192.168.0.10/24 via 192.168.0.1, works as it is, and a DHCP lease (192.168.0.15) is
 * another address. Every forward is bound now: one that cannot be is a start-up error. */
static int setup_user_net(struct emul_board *b, const char **how)
{
  const struct iapd_options *o = b->opt;
  struct slirpif_config cfg;
  char err[256], net[16], host[16], dhcp[16];
  uint32_t network = 0;

  for (int i = 0; i < 4; i++) {
    cfg.network[i] = o->ip[i] & o->netmask[i];
    network = network << 8 | cfg.network[i];
  }
  network += 15;
  for (int i = 0; i < 4; i++)
    cfg.dhcp_start[i] = (uint8_t)(network >> (24 - 8 * i));
  memcpy(cfg.netmask, o->netmask, 4);
  memcpy(cfg.host, o->gateway, 4);
  memcpy(cfg.board, o->ip, 4);
  int fd = slirpif_open(&b->slirp, &cfg, err, sizeof(err));
  if (fd < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  log_ipv4(net, sizeof(net), cfg.network);
  log_ipv4(host, sizeof(host), cfg.host);
  log_ipv4(dhcp, sizeof(dhcp), cfg.dhcp_start);
  log_info("net", "user-mode networking (libslirp %s): network %s/%u.%u.%u.%u, "
           "host %s, DHCP leases from %s", slirpif_version(), net, o->netmask[0], o->netmask[1],
           o->netmask[2], o->netmask[3], host, dhcp);
  for (unsigned i = 0; i < o->forward_count; i++) {
    const struct iapd_forward *f = &o->forwards[i];
    struct slirpif_forward sf = { f->udp, { 0 }, f->host_port, f->board_port };
    char text[40], addr[16];
    memcpy(sf.host_addr, f->host_addr, 4);
    options_forward_text(f, text, sizeof(text));
    if (slirpif_add_forward(&b->slirp, &sf, err, sizeof(err)) < 0) {
      log_err("net", "forward %s: %s", text, err);
      return -1;
    }
    log_ipv4(addr, sizeof(addr), f->host_addr);
    log_info("net", "forward %s: %s %s:%u on this host leads to the board's port %u", text,
             f->udp ? "udp" : "tcp", addr, f->host_port, f->board_port);
    if (f->host_addr[0] != 127)
      log_warn("net", "forward %s: %s is not a loopback address: whoever reaches it can "
               "upload firmware to the board", text, addr);
  }
  if (o->forward_count == 0)
    log_warn("net", "user-mode networking without forwards: nothing reaches the board");
  netif_backend_init(&b->port, &slirpif_ops, &b->slirp, fd, "slirp", o->mac);
  *how = "user-mode networking";
  return 0;
}

int emul_board_setup_network(struct emul_board *b)
{
  const struct iapd_options *o = b->opt;
  const char *how = "";
  int rc;

  if (o->user_net)
    rc = setup_user_net(b, &how);
  else if (o->attach[0] != '\0')
    rc = setup_attach(b, &how);
  else
    rc = setup_tap(b, &how);
  if (rc < 0)
    return -1;
  if (b->capturing)
    netif_backend_observe(&b->port, pcap_capture_observer, &b->capture);

  log_info("net", "board %u.%u.%u.%u/%u.%u.%u.%u gateway %u.%u.%u.%u%s MAC "
           "%02x:%02x:%02x:%02x:%02x:%02x on %s (%s)",
           o->ip[0], o->ip[1], o->ip[2], o->ip[3],
           o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3],
           o->gateway[0], o->gateway[1], o->gateway[2], o->gateway[3],
           o->dhcp ? " (the fallback: DHCP first)" : "",
           o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4], o->mac[5], b->port.ifname,
           how);
  return 0;
}

/* With --user-net, a forward leads to one address: when a DHCP lease (or the fallback to the
 * static address) moves the board, the forwards follow it. */
void emul_board_follow_address(struct emul_board *b)
{
  const ip4_addr_t *a = netif_ip4_addr(&b->port.netif);
  uint8_t addr[4];
  char err[256];

  if (!b->port_added || ip4_addr_isany(a))
    return;
  memcpy(addr, &a->addr, 4);   /* network order: first octet first */
  int moved = slirpif_follow_board(&b->slirp, addr, err, sizeof(err));
  if (moved > 0)
    log_info("net", "forwards now lead to the board at %u.%u.%u.%u", addr[0], addr[1],
             addr[2], addr[3]);
  else if (moved < 0)
    log_err("net", "forwards to the board at %u.%u.%u.%u: %s", addr[0], addr[1], addr[2],
            addr[3], err);
}
