/*
 * The board's address at each start of IAP mode (AN3376 5.1): the static address, or
 * lwIP's DHCP client, falling back to the static address when no server answers within the
 * DHCP timeout (iapd --dhcp-timeout; the firmware's DHCP_FALLBACK_MS). Says in the log which
 * one the board uses, and calls ready() once the address is settled so that the IAP services
 * start on it. lwIP context only (NO_SYS).
 */
#ifndef IAPD_NET_ADDRESS_H
#define IAPD_NET_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

enum address_source {
  ADDRESS_STATIC,     /* no --dhcp */
  ADDRESS_PENDING,    /* DHCP asked, no answer yet */
  ADDRESS_DHCP,       /* leased */
  ADDRESS_FALLBACK,   /* no DHCP answer in time: the static address */
};

struct net_address {
  struct netif *netif;
  ip4_addr_t ip, netmask, gateway;     /* the static address */
  bool use_dhcp;
  enum address_source source;
  uint32_t fallback_ms;
  void (*ready)(void *ctx);
  void *ctx;
};

/* fallback_ms: how long DHCP may take before the static address is used. use_dhcp counts
 * only where lwIP is built with DHCP: iapd always is; a firmware built without it
 * (USE_DHCP=0) never asks. */
void net_address_init(struct net_address *d, struct netif *netif, const ip4_addr_t *ip,
                      const ip4_addr_t *netmask, const ip4_addr_t *gateway, bool use_dhcp,
                      uint32_t fallback_ms, void (*ready)(void *ctx), void *ctx);

/* The netif is up: settle its address (at once when static), then call ready(). */
void net_address_start(struct net_address *d);

/* Reset or jump: stop asking, release a lease, forget a pending fallback. */
void net_address_stop(struct net_address *d);

/* "static", "pending", "dhcp", "fallback". */
const char *net_address_source_str(enum address_source source);

#endif
