/*
 * The emulated board's Ethernet port on a Linux TAP device: whole frames in and out, plugged
 * into lwIP by netif_backend.h (tapif_ops). Errors come back as values with a message that
 * says what is missing (a capability, the tun module); nothing here exits or runs external
 * commands.
 */
#ifndef IAPD_TAPIF_H
#define IAPD_TAPIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netif_backend.h"

struct tapif {
  int fd;
  char name[16];
  bool created;        /* the device did not exist before: iapd made it */
};

/* The TAP as a frame device for netif_backend_init(); dev is the struct tapif. */
extern const struct netif_backend_ops tapif_ops;

/* Opens TAP `name`, creating it if absent. Returns 0, or -1 with a message in err. */
int tapif_open(struct tapif *t, const char *name, char *err, size_t err_size);

/* Gives the host side of the TAP an IPv4 address (addr/prefix) and brings it up. */
int tapif_set_host_addr(const struct tapif *t, const uint8_t addr[4], unsigned prefix,
                        char *err, size_t err_size);

/* Brings the host side up without touching its addresses. */
int tapif_set_host_up(const struct tapif *t, char *err, size_t err_size);

void tapif_close(struct tapif *t);

#endif
