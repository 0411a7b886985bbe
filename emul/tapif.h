/*
 * The emulated board's Ethernet port: a Linux TAP device carrying the board's frames, as an
 * lwIP netif. Errors come back as values with a message that says what is missing (a
 * capability, the tun module); nothing here exits or runs external commands.
 */
#ifndef IAPD_TAPIF_H
#define IAPD_TAPIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

struct tapif {
  int fd;
  char name[16];
  bool created;        /* the device did not exist before: iapd made it */
  uint8_t mac[6];      /* the board's MAC (lwIP side) */
  struct netif netif;
  uint32_t rx_frames, tx_frames;
};

/* Opens TAP `name`, creating it if absent. Returns 0, or -1 with a message in err. */
int tapif_open(struct tapif *t, const char *name, const uint8_t mac[6], char *err,
               size_t err_size);

/* Gives the host side of the TAP an IPv4 address (addr/prefix) and brings it up. */
int tapif_set_host_addr(const struct tapif *t, const uint8_t addr[4], unsigned prefix,
                        char *err, size_t err_size);

/* Brings the host side up without touching its addresses. */
int tapif_set_host_up(const struct tapif *t, char *err, size_t err_size);

/* netif_add() init function; the netif's state is the struct tapif. */
err_t tapif_netif_init(struct netif *netif);

/* Hands every frame waiting on the device (at most a bounded batch) to lwIP. */
void tapif_poll(struct tapif *t);

void tapif_close(struct tapif *t);

#endif
