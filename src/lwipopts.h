/*
 * lwIP configuration for iapd and for the firmware: the same file for both, so the stack the
 * developer tests on the laptop is the stack that ships. NO_SYS=1, raw API only, IPv4.
 * Memory is bounded at compile time; sizes are for one TFTP transfer plus a few HTTP
 * connections on a 128 KiB SRAM part.
 */
#ifndef IAPD_LWIPOPTS_H
#define IAPD_LWIPOPTS_H

#include "http_opts.h"
#include "iap_opts.h"

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_NETCONN                0
#define LWIP_SOCKET                 0
#define LWIP_NETIF_API              0

/* Memory: lwIP's own heap and pools, never the C library's malloc. */
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
/* The pointer size: 4 on the Cortex-M4, 8 on an x86-64 host, where lwIP's pool headers hold
 * pointers that must be 8-aligned (UBSan reports the misaligned accesses otherwise). */
#define MEM_ALIGNMENT               __SIZEOF_POINTER__
#define MEM_SIZE                    (16 * 1024)
#define MEMP_NUM_PBUF               16
#define MEMP_NUM_UDP_PCB            6
#define MEMP_NUM_TCP_PCB            6
#define MEMP_NUM_TCP_PCB_LISTEN     2
#define MEMP_NUM_TCP_SEG            24
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#define PBUF_POOL_SIZE              16
#define PBUF_POOL_BUFSIZE           LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)

/* Protocols. */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
/* UDP only for the TFTP server and DHCP, TCP only for the HTTP server: a TFTP-only
 * bootloader is 15 KiB smaller without TCP, an HTTP-only one without DHCP 1 KiB without
 * UDP (a UDP datagram then gets ICMP protocol unreachable, not port unreachable). */
#define LWIP_UDP                    (USE_IAP_TFTP || USE_DHCP)
#define LWIP_TCP                    USE_IAP_HTTP
#define LWIP_DHCP                   USE_DHCP
#define LWIP_AUTOIP                 0
#define LWIP_IGMP                   0
#define LWIP_DNS                    0
/* No IP fragments in or out: the board never sends a datagram larger than a frame, and
 * drops every fragment it receives, logging it (src/ip_fragments.h says why). */
#define IP_REASSEMBLY               0
#define IP_FRAG                     0
#define LWIP_HOOK_FILENAME          "lwip_hooks.h"
#define LWIP_HOOK_IP4_INPUT(p, inp) ip_fragment_hook(p, inp)
/* lwIP 2.1 passes the new PCB's fields, not the PCB, and calls this from tcp_next_iss(pcb):
 * the hook takes that PCB (src/tcp_initial.h says why it needs it); a renamed parameter in a
 * later lwIP fails to compile rather than silently. */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) tcp_initial_hook(pcb)
#define ARP_TABLE_SIZE              4
/* One packet waits for each ARP answer, not a queue: the servers only answer, and the peer
 * that asked is in the table already (lwIP learns it from the request). */
#define ARP_QUEUEING                0
#define ETHARP_SUPPORT_STATIC_ENTRIES 0

/* TCP: 1460-byte segments. The receive window, in segments: on the board, four, for what its
 * receive DMA buffers hold while a segment is programmed (firmware/board_opts.h); iapd's
 * frames wait in the TAP's queue instead, and mk/lwip.am sets 15 (what the pool holds), with
 * which a 960 KiB PUT takes 45 round trips through the TAP instead of 168. */
#define TCP_MSS                     1460
#if !defined IAP_TCP_WND_SEGMENTS
#define IAP_TCP_WND_SEGMENTS        4
#endif
#define TCP_WND                     (IAP_TCP_WND_SEGMENTS * TCP_MSS)
#define TCP_SND_BUF                 (4 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define LWIP_TCP_KEEPALIVE          0
/* Out-of-order segments are kept (about 1 KB of code). A LAN seldom reorders, but the board
 * drops: while an erase stalls the CPU, frames past its 4 receive buffers are lost, and
 * resends then take buffers too. Without the queue (AN3376's lwIP options) every segment
 * after a lost one was dropped as well, each loss cost the client a go-back-N resend and a
 * retransmission timeout that doubled as its resends were lost in turn: Chromium's 960 KiB
 * form upload stalled past the body-rate limit and was retried (37 s instead of 13.5 s at
 * typical timing). With it, the one resend of the lost segment fills the gap. SACK blocks
 * (LWIP_TCP_SACK_OUT) would cost about 1 KB more for 0.6 s of curl's 12.4 s PUT, and
 * nothing measurable on Chromium's upload. */
#define TCP_QUEUE_OOSEQ             1
/* tcp_write() does not grow the last segment's pbuf in place: the server writes whole
 * pieces (headers, a page, a message), each copied once. */
#define TCP_OVERSIZE                0
/* The MSS is TCP_MSS (1460) or less if the peer asks: what the netif MTU (1500) gives anyway. */
#define TCP_CALCULATE_EFF_SEND_MSS  0
/* Handshakes in progress are counted per listener, and a SYN past the HTTP server's backlog
 * (http_server.c) is dropped before it takes a pcb: a SYN flood cannot fill the pool with
 * handshakes, which lwIP can never reclaim for a client that has connected. */
#define TCP_LISTEN_BACKLOG          1
/* The HTTP server listens on port 80 again after a board reset, while connections it closed
 * before may still wait in TIME_WAIT (iapd keeps lwIP across resets; the chip does not):
 * http_server.c sets SOF_REUSEADDR on its listening pcb. */
#define SO_REUSE                    1

/* Random numbers: local ports (each TFTP transfer's TID), TCP ISNs, DHCP xids, from the
 * board's RNG (src/iap_random.c). */
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1
#ifndef LWIP_RAND
#include <stdint.h>
uint32_t iap_random32(void);
#define LWIP_RAND()                 iap_random32()
#endif

/* Only the DHCP client's address needs a status callback (src/net_address.c); no one
 * registers a link callback. */
#define LWIP_NETIF_STATUS_CALLBACK  USE_DHCP
#define LWIP_NETIF_LINK_CALLBACK    0
/* The DHCP client does not ARP for its offered address before taking it (RFC 2131 says
 * SHOULD; AN3376's stack skipped it too): a second's wait at every start saved. */
#define DHCP_DOES_ARP_CHECK         0
#define LWIP_IPV4_SRC_ROUTING       0
#define LWIP_NETIF_HOSTNAME         0
#define LWIP_SINGLE_NETIF           1

#define LWIP_STATS                  0
#define LWIP_PROVIDE_ERRNO          1

/* Checksums in software on both targets (the MAC's checksum offload is not used yet). */
#define CHECKSUM_GEN_IP             1
#define CHECKSUM_GEN_UDP            1
#define CHECKSUM_GEN_TCP            1
#define CHECKSUM_GEN_ICMP           1
#define CHECKSUM_CHECK_IP           1
#define CHECKSUM_CHECK_UDP          1
#define CHECKSUM_CHECK_TCP          1

#endif
