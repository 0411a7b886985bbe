/* lwIP raw-API glue for the TFTP server (see tftp_server.h). */
#include "tftp_server.h"

#include <string.h>

#include "log.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

/* The largest DATA the board can take is a TFTP_BLKSIZE_MAX block with its header, and one
 * byte more: a packet cut to this buffer is still longer than any block the core accepts, so
 * it is refused as too long rather than taken as a full block. Requests with options are a
 * few hundred bytes. */
#define TFTP_RX_MAX (TFTP_HEADER_SIZE + TFTP_BLKSIZE_MAX + 1)

/* A DATA of TFTP_BLKSIZE_MAX arrives in one Ethernet frame, and that frame in one pool pbuf:
 * a window of blocks costs one pbuf per block queued, not two. */
_Static_assert(PBUF_POOL_BUFSIZE >= PBUF_LINK_HLEN + 20 + 8 + TFTP_HEADER_SIZE + TFTP_BLKSIZE_MAX,
               "PBUF_POOL_BUFSIZE (src/lwipopts.h) must hold a frame with a TFTP_BLKSIZE_MAX block");

struct tftp_server {
  bool running;
  struct udp_pcb *listen_pcb;   /* port 69 */
  struct udp_pcb *session_pcb;  /* the transfer's TID */
  struct tftp_core core;
  uint8_t rx[TFTP_RX_MAX];
};

static struct tftp_server server;

static void peer_from_lwip(const ip_addr_t *addr, u16_t port, struct tftp_peer *peer)
{
  const ip4_addr_t *a = ip_2_ip4(addr);
  peer->ip[0] = ip4_addr1(a);
  peer->ip[1] = ip4_addr2(a);
  peer->ip[2] = ip4_addr3(a);
  peer->ip[3] = ip4_addr4(a);
  peer->port = port;
}

static void peer_to_lwip(const struct tftp_peer *peer, ip_addr_t *addr)
{
  IP_ADDR4(addr, peer->ip[0], peer->ip[1], peer->ip[2], peer->ip[3]);
}

static void send_from(struct udp_pcb *pcb, const struct tftp_peer *to, const uint8_t *pkt,
                      size_t len)
{
  ip_addr_t addr;
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
  if (!p) {
    log_warn("tftp", "no memory to send a %u-byte packet", (unsigned)len);
    return;
  }
  memcpy(p->payload, pkt, len);
  peer_to_lwip(to, &addr);
  udp_sendto(pcb, p, &addr, to->port);
  pbuf_free(p);
}

static void glue_send(void *ctx, enum tftp_via via, const struct tftp_peer *to,
                      const uint8_t *pkt, size_t len)
{
  struct tftp_server *s = ctx;
  if (via == TFTP_VIA_SESSION && s->session_pcb) {
    send_from(s->session_pcb, to, pkt, len);
    return;
  }
  /* Errors to requests that start no transfer leave from a fresh port, as a transfer's
   * replies would (RFC 1350 section 4). */
  struct udp_pcb *pcb = udp_new();
  if (!pcb)
    return;
  if (udp_bind(pcb, IP4_ADDR_ANY, 0) == ERR_OK)
    send_from(pcb, to, pkt, len);
  udp_remove(pcb);
}

/* Copies a received packet into the flat buffer the core reads, and frees the pbuf. A packet
 * longer than the buffer is cut to it: a cut request is no longer NUL-terminated and a cut
 * DATA still longer than any block size, so the core refuses both as what they are. */
static u16_t take_packet(struct tftp_server *s, struct pbuf *p, const ip_addr_t *addr,
                         u16_t port, struct tftp_peer *from)
{
  u16_t len = pbuf_copy_partial(p, s->rx, sizeof(s->rx), 0);
  peer_from_lwip(addr, port, from);
  pbuf_free(p);
  return len;
}

static void on_session_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                            const ip_addr_t *addr, u16_t port)
{
  struct tftp_server *s = arg;
  struct tftp_peer from;
  u16_t len = take_packet(s, p, addr, port, &from);
  (void)pcb;
  tftp_core_on_session_packet(&s->core, &from, s->rx, len, sys_now());
}

static void on_request_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
                            const ip_addr_t *addr, u16_t port)
{
  struct tftp_server *s = arg;
  struct tftp_peer from;
  u16_t len = take_packet(s, p, addr, port, &from);
  (void)pcb;
  tftp_core_on_request(&s->core, &from, s->rx, len, sys_now());
}

static bool glue_open_session(void *ctx)
{
  struct tftp_server *s = ctx;
  struct udp_pcb *pcb = udp_new();
  if (!pcb)
    return false;
  /* Port 0: lwIP picks a fresh local port, randomised at start-up (RFC 1350 TIDs). */
  if (udp_bind(pcb, IP4_ADDR_ANY, 0) != ERR_OK) {
    udp_remove(pcb);
    return false;
  }
  udp_recv(pcb, on_session_recv, s);
  s->session_pcb = pcb;
  return true;
}

static void glue_close_session(void *ctx)
{
  struct tftp_server *s = ctx;
  if (s->session_pcb) {
    udp_remove(s->session_pcb);
    s->session_pcb = NULL;
  }
}

static void on_timeout(void *arg)
{
  struct tftp_server *s = arg;
  tftp_core_on_timer(&s->core, sys_now());
}

static void glue_arm_timer(void *ctx, uint32_t delay_ms)
{
  sys_untimeout(on_timeout, ctx);
  sys_timeout(delay_ms, on_timeout, ctx);
}

static void glue_cancel_timer(void *ctx)
{
  sys_untimeout(on_timeout, ctx);
}

static const struct tftp_core_ops glue_ops = {
  .open_session = glue_open_session,
  .close_session = glue_close_session,
  .send = glue_send,
  .arm_timer = glue_arm_timer,
  .cancel_timer = glue_cancel_timer,
};

err_t tftp_server_start(const struct image_sink_ops *sink, void *sink_ctx,
                        const struct tftp_limits *limits)
{
  err_t err;
  if (server.running)
    return ERR_OK;
  tftp_core_init(&server.core, &glue_ops, &server, sink, sink_ctx, limits);
  server.listen_pcb = udp_new();
  if (!server.listen_pcb)
    return ERR_MEM;
  err = udp_bind(server.listen_pcb, IP4_ADDR_ANY, TFTP_PORT);
  if (err != ERR_OK) {
    udp_remove(server.listen_pcb);
    server.listen_pcb = NULL;
    return err;
  }
  udp_recv(server.listen_pcb, on_request_recv, &server);
  server.running = true;
  return ERR_OK;
}

void tftp_server_stop(void)
{
  if (!server.running)
    return;
  tftp_core_shutdown(&server.core);
  udp_remove(server.listen_pcb);
  server.listen_pcb = NULL;
  server.running = false;
}

const struct tftp_core *tftp_server_core(void)
{
  return server.running ? &server.core : NULL;
}
