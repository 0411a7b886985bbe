/*
 * --pcap FILE: every Ethernet frame crossing the emulated MAC, both directions, written with
 * its time to a pcap file (link type Ethernet) that tcpdump and Wireshark read. The file is
 * flushed after every frame, so it can be read while iapd runs; "-" is standard output.
 */
#ifndef IAPD_PCAP_CAPTURE_H
#define IAPD_PCAP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netif_backend.h"

struct pcap_capture {
  void *pcap;        /* pcap_t, pcap_open_dead */
  void *dumper;      /* pcap_dumper_t */
  char path[4096];
  uint32_t frames;
  bool failed;       /* a write failed: logged once, capture stopped */
};

/* Creates (truncates) path. Returns 0, or -1 with a message in err. */
int pcap_capture_open(struct pcap_capture *c, const char *path, char *err, size_t err_size);

/* Writes one frame with the current time. */
void pcap_capture_frame(struct pcap_capture *c, const uint8_t *frame, size_t len);

/* The observer for netif_backend_observe(); ctx is the struct pcap_capture. */
void pcap_capture_observer(void *ctx, enum netif_backend_dir dir, const uint8_t *frame,
                           size_t len);

/* SIGHUP: closes the file and starts a new one under the same name (log rotation: move the
 * old file away first). Returns 0, or -1 with a message in err and the capture stopped. */
int pcap_capture_reopen(struct pcap_capture *c, char *err, size_t err_size);

void pcap_capture_close(struct pcap_capture *c);

#endif
