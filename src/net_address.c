/* The board's address: static, or DHCP with a fallback (see net_address.h). */
#include "net_address.h"

#include <string.h>

#include "iap_format.h"
#include "log.h"
#include "lwip/dhcp.h"
#include "lwip/timeouts.h"

const char *net_address_source_str(enum address_source source)
{
  switch (source) {
  case ADDRESS_STATIC:   return "static";
  case ADDRESS_PENDING:  return "pending";
  case ADDRESS_DHCP:     return "dhcp";
  case ADDRESS_FALLBACK: return "fallback";
  }
  return "unknown";
}

void net_address_init(struct net_address *d, struct netif *netif, const ip4_addr_t *ip,
                      const ip4_addr_t *netmask, const ip4_addr_t *gateway, bool use_dhcp,
                      uint32_t fallback_ms, void (*ready)(void *ctx), void *ctx)
{
  memset(d, 0, sizeof(*d));
  d->netif = netif;
  d->ip = *ip;
  d->netmask = *netmask;
  d->gateway = *gateway;
  d->use_dhcp = use_dhcp && LWIP_DHCP;
  d->source = d->use_dhcp ? ADDRESS_PENDING : ADDRESS_STATIC;
  d->fallback_ms = fallback_ms;
  d->ready = ready;
  d->ctx = ctx;
}

static void set_static(struct net_address *d)
{
  netif_set_addr(d->netif, &d->ip, &d->netmask, &d->gateway);
}

#if LWIP_DHCP
static void on_fallback(void *arg)
{
  struct net_address *d = arg;
  char ip[IAP_IP4_TEXT_SIZE];

  if (d->source != ADDRESS_PENDING)
    return;
  dhcp_release_and_stop(d->netif);
  set_static(d);
  d->source = ADDRESS_FALLBACK;
  if (IAP_LOG)  /* for the log line only */
    iap_format_ip4(ip, &d->ip);
  log_warn("net", "DHCP: no answer within %u s; using the static address %s",
           (unsigned)(d->fallback_ms / 1000u), ip);
  d->ready(d->ctx);
}

/* lwIP's status callback has no context pointer; one board, one client. */
static struct net_address *status_owner;

/* lwIP calls this when the interface's address changes (and when it goes up or down). */
static void on_address(struct netif *netif)
{
  struct net_address *d = status_owner;
  char ip[IAP_IP4_TEXT_SIZE], mask[IAP_IP4_TEXT_SIZE], gw[IAP_IP4_TEXT_SIZE];
  char server[IAP_IP4_TEXT_SIZE];

  if (d == NULL || d->netif != netif || d->source != ADDRESS_PENDING ||
      !dhcp_supplied_address(netif))
    return;
  sys_untimeout(on_fallback, d);
  d->source = ADDRESS_DHCP;
  const struct dhcp *lease = netif_dhcp_data(netif);
  if (IAP_LOG) {  /* for the log line only */
    iap_format_ip4(ip, netif_ip4_addr(netif));
    iap_format_ip4(mask, netif_ip4_netmask(netif));
    iap_format_ip4(gw, netif_ip4_gw(netif));
    iap_format_ip4(server, ip_2_ip4(&lease->server_ip_addr));
  }
  log_info("net", "DHCP: address %s netmask %s gateway %s from server %s, lease %u s",
           ip, mask, gw, server, (unsigned)lease->offered_t0_lease);
  d->ready(d->ctx);
}
#endif

void net_address_start(struct net_address *d)
{
  if (!LWIP_DHCP || !d->use_dhcp) {
    d->source = ADDRESS_STATIC;
    set_static(d);
    d->ready(d->ctx);
    return;
  }
#if LWIP_DHCP
  d->source = ADDRESS_PENDING;
  netif_set_addr(d->netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
  status_owner = d;
  netif_set_status_callback(d->netif, on_address);
  log_info("net", "DHCP: looking for a server (static address after %u s without answer)",
           (unsigned)(d->fallback_ms / 1000u));
  if (dhcp_start(d->netif) != ERR_OK) {
    log_err("net", "DHCP: cannot start the client (lwIP out of memory)");
    d->source = ADDRESS_PENDING;
    on_fallback(d);
    return;
  }
  sys_timeout(d->fallback_ms, on_fallback, d);
#endif
}

void net_address_stop(struct net_address *d)
{
  if (!d->use_dhcp)
    return;
#if LWIP_DHCP
  sys_untimeout(on_fallback, d);
  dhcp_release_and_stop(d->netif);
#endif
  d->source = ADDRESS_PENDING;
}
