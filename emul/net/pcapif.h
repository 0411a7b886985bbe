/*
 * The second network backend: the board attached to an existing interface (one end of a veth
 * pair, a bridge port, a spare NIC) through libpcap, instead of a TAP device iapd creates.
 * Frames arriving on the interface are read in immediate, non-blocking mode (inbound only,
 * promiscuous, since the board's MAC is not the interface's); the board's frames are sent
 * with pcap_inject(). Needs CAP_NET_RAW. Errors come back as values with a message.
 */
#ifndef IAPD_PCAPIF_H
#define IAPD_PCAPIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netif_backend.h"

struct pcapif {
  void *pcap;          /* pcap_t */
  char name[16];
  uint32_t oversize;   /* frames longer than an Ethernet frame, dropped */
};

extern const struct netif_backend_ops pcapif_ops;

/* Opens name for capture and injection. Returns its selectable descriptor (>= 0), or -1
 * with a message in err. */
int pcapif_open(struct pcapif *p, const char *name, char *err, size_t err_size);

void pcapif_close(struct pcapif *p);

#endif
