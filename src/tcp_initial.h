/*
 * What a new TCP connection starts with, on iapd and on the firmware alike: lwIP's
 * LWIP_HOOK_TCP_ISN runs once per connection, after the PCB is made and before its SYN-ACK is
 * queued, and it is lwIP 2.1's only seam at that point. So it does two jobs there:
 *   - the initial sequence number comes from the board's RNG (iap_random32()). lwIP's own is
 *     6510 plus its tick count, which lets anyone on the LAN guess the next connection's and
 *     inject into an upload (RFC 6528);
 *   - the receive window offered in the SYN-ACK is the board's (tcp_initial_set_window()),
 *     when that is below TCP_WND. A window pulled in after the handshake comes too late: a
 *     client that sends its body with its request head (Chromium's form upload) has already
 *     sent TCP_WND bytes, and what its receive ring cannot hold is lost.
 */
#ifndef IAPD_TCP_INITIAL_H
#define IAPD_TCP_INITIAL_H

#include <stdint.h>

/* Included by lwIP's own files (LWIP_HOOK_FILENAME): declarations only. */
struct tcp_pcb;

/* The window new connections offer, in bytes: 0, or TCP_WND and above, for TCP_WND. */
void tcp_initial_set_window(uint32_t bytes);

/* LWIP_HOOK_TCP_ISN, given the new PCB (src/lwipopts.h): sets its window, returns its ISN. */
uint32_t tcp_initial_hook(struct tcp_pcb *pcb);

#endif
