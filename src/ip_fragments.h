/*
 * IPv4 fragments are refused, on iapd and on the firmware alike. lwIP is built without
 * reassembly (IP_REASSEMBLY 0, src/lwipopts.h): it would hold fragments in pool pbufs that a
 * TFTP window needs, for seconds, for anyone who sends them, and no compliant client sends
 * any, since the largest TFTP block the board answers fits one frame (TFTP_BLKSIZE_MAX).
 * lwIP drops a fragment without a word, and a client that sends datagrams larger than a frame
 * just times out; this input hook (LWIP_HOOK_IP4_INPUT) drops it too, and says so in the log:
 * the first one, then at most once every IP_FRAGMENT_LOG_MS, with the count.
 */
#ifndef IAPD_IP_FRAGMENTS_H
#define IAPD_IP_FRAGMENTS_H

#include <stdint.h>

/* Included by lwIP's own files (LWIP_HOOK_FILENAME): declarations only. */
struct pbuf;
struct netif;

#if !defined IP_FRAGMENT_LOG_MS
#define IP_FRAGMENT_LOG_MS 10000u
#endif

/* LWIP_HOOK_IP4_INPUT: 1 when p was a fragment (then freed here), 0 to let lwIP go on. */
int ip_fragment_hook(struct pbuf *p, struct netif *inp);

/* Fragments dropped since start. */
uint32_t ip_fragments_dropped(void);

#endif
