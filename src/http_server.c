/* lwIP raw-API glue for the HTTP server (see http_server.h). */
#include "http_server.h"

#include <string.h>

#include "iap_format.h"
#include "log.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "tcp_initial.h"

/* tcp_poll interval, in lwIP's coarse timer ticks of 500 ms. */
#define POLL_TICKS 2
/* A reset waits for its page to be acknowledged, at most this many polls. */
#define RESET_WAIT_POLLS 3

/*
 * lwIP priorities of the server's pcbs. When a SYN finds lwIP's pcb pool empty, tcp_alloc()
 * aborts the active pcb of the lowest priority below the listener's, among those the longest
 * silent, among those the oldest (tcp_kill_prio). A handshake has the listener's priority
 * and is never killed for another. Then a connection is ranked by what it does:
 *   PRIO_CLOSED   its answer out, the FIN handshake left;
 *   PRIO_IDLE     PRIO_SLOW_MS or more without doing what it is there for
 *                 (http_conn_stalled_ms): waiting for a request, behind the body rate, not
 *                 taking its answer;
 *   PRIO_NEW      waiting for a request, or a place, for less than that: a new client's
 *                 request may be on its way; the oldest goes first, a new client last;
 *   PRIO_WORKING  a request in progress and not PRIO_SLOW_MS behind (a body that waits a
 *                 round trip for 100 Continue included): never killed, as a handshake.
 * PRIO_SLOW_MS is long for a client on a LAN and short for one that trickles. The ranks of
 * all the connections are renewed at every event of any (refresh_prios): a connection that
 * sends nothing has no event of its own to be demoted by. evict_for() decides finer, among
 * the connections that hold a place.
 */
#define PRIO_LISTEN  TCP_PRIO_NORMAL
#define PRIO_WORKING TCP_PRIO_NORMAL
#define PRIO_NEW     (TCP_PRIO_MIN + 2)
#define PRIO_IDLE    (TCP_PRIO_MIN + 1)
#define PRIO_CLOSED  TCP_PRIO_MIN
#define PRIO_SLOW_MS 100u

/* Handshakes in progress at once (TCP_LISTEN_BACKLOG, src/lwipopts.h); a SYN past them is
 * dropped and sent again by its client a second later. The pcbs left beside the served
 * connections, so that a flood of SYNs leaves lwIP a pcb it can reclaim. */
#define HTTP_LISTEN_BACKLOG (MEMP_NUM_TCP_PCB - HTTP_MAX_CONNECTIONS)

struct http_glue {
  bool used;
  struct tcp_pcb *pcb;
  struct pbuf *pending;       /* received, not yet taken by the core */
  bool closing;               /* the core is done: close when the answer is out */
  bool reset_after;
  unsigned close_polls;
  struct http_conn conn;
};

struct http_server {
  bool running;
  uintptr_t generation;       /* counts starts: an unplaced connection knows its server */
  struct tcp_pcb *listen_pcb;
  struct http_app app;
  struct http_glue conns[HTTP_MAX_CONNECTIONS];
};

static struct http_server server;

static size_t glue_send(void *ctx, const void *data, size_t len, bool copy)
{
  struct http_glue *g = ctx;
  size_t n = len;
  u16_t room = tcp_sndbuf(g->pcb);

  if (n > room)
    n = room;
  if (n > 0xFFFFu)
    n = 0xFFFFu;
  /* tcp_write fails with ERR_MEM when lwIP's heap or segment pool is short: try smaller,
   * then give up until the next sent or poll callback. */
  while (n > 0) {
    err_t err = tcp_write(g->pcb, data, (u16_t)n, copy ? TCP_WRITE_FLAG_COPY : 0);
    if (err == ERR_OK)
      return n;
    if (err != ERR_MEM)
      return 0;
    n /= 2;
    if (n < 256)
      return 0;
  }
  return 0;
}

static void glue_flush(void *ctx)
{
  struct http_glue *g = ctx;
  tcp_output(g->pcb);
}

static void glue_close(void *ctx, bool reset)
{
  struct http_glue *g = ctx;
  g->closing = true;
  g->reset_after = reset;
}

static const struct http_conn_ops glue_ops = {
  .send = glue_send,
  .flush = glue_flush,
  .close = glue_close,
};

static void release(struct http_glue *g)
{
  if (g->pending) {
    pbuf_free(g->pending);
    g->pending = NULL;
  }
  g->pcb = NULL;
  g->used = false;
}

static void detach(struct tcp_pcb *pcb)
{
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);  /* lwIP's default then takes and drops late data: no RST */
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  tcp_poll(pcb, NULL, 0);
}

/* Closes the connection for good: FIN after the queued answer; the pcb finishes alone. */
static void finish(struct http_glue *g)
{
  struct tcp_pcb *pcb = g->pcb;
  bool reset = g->reset_after;

  if (g->pending) {
    /* Unread data at close makes lwIP send RST (and lose the answer): take it first. */
    tcp_recved(pcb, g->pending->tot_len);
    pbuf_free(g->pending);
    g->pending = NULL;
  }
  detach(pcb);
  tcp_setprio(pcb, PRIO_CLOSED);
  if (tcp_close(pcb) != ERR_OK)
    tcp_abort(pcb);
  release(g);
  if (reset && server.app.cfg.request_reset)
    server.app.cfg.request_reset(server.app.cfg.reset_ctx);
}

/* After every call into the core: close if it asked to. A reset waits until its page is
 * acknowledged (or a few polls), so the browser shows it before the board goes away.
 * Otherwise the pcb's priority follows what the connection does now. */
static void refresh_prios(void)
{
  uint32_t now = sys_now();
  for (unsigned i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
    struct http_glue *g = &server.conns[i];
    if (!g->used || g->closing)
      continue;
    const struct http_conn *c = &g->conn;
    u8_t prio = http_conn_waiting(c) ? PRIO_NEW : PRIO_WORKING;
    if (http_conn_stalled_ms(c, now) >= PRIO_SLOW_MS)
      prio = PRIO_IDLE;
    tcp_setprio(g->pcb, prio);
  }
}

static void check_close(struct http_glue *g)
{
  if (!g->used)
    return;
  if (!g->closing) {
    refresh_prios();
    return;
  }
  if (g->reset_after && (g->pcb->unsent != NULL || g->pcb->unacked != NULL)
      && g->close_polls < RESET_WAIT_POLLS)
    return;  /* the reset waits for its page: it keeps its priority */
  finish(g);
}

/* Offers what was received to the core, as far as it takes it. */
static void feed(struct http_glue *g)
{
  while (g->pending != NULL && !g->closing) {
    struct pbuf *q = g->pending;
    u16_t avail = q->len;
    if (avail == 0) {
      g->pending = pbuf_dechain(q);
      pbuf_free(q);
      continue;
    }
    size_t n = http_conn_input(&g->conn, q->payload, avail, sys_now());
    if (n > 0) {
      g->pending = pbuf_free_header(q, (u16_t)n);
      tcp_recved(g->pcb, (u16_t)n);
    }
    if (n < avail)
      break;  /* the core waits for its answer to go out */
  }
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct http_glue *g = arg;

  if (g == NULL || !g->used) {
    if (p) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (p == NULL || err != ERR_OK) {
    /* The client closed its side: whatever it sent is all there will be. */
    if (p)
      pbuf_free(p);
    feed(g);
    if (!g->closing) {
      http_conn_closed(&g->conn, "the client closed the connection");
      g->closing = true;
    }
    check_close(g);
    return ERR_OK;
  }
  if (g->pending)
    pbuf_cat(g->pending, p);
  else
    g->pending = p;
  feed(g);
  check_close(g);
  return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct http_glue *g = arg;
  (void)pcb;
  (void)len;
  if (g == NULL || !g->used)
    return ERR_OK;
  if (!g->closing) {
    http_conn_on_sent(&g->conn, sys_now());
    feed(g);  /* the next request may have waited for this answer */
  }
  check_close(g);
  return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
  struct http_glue *g = arg;
  (void)pcb;
  if (g == NULL || !g->used)
    return ERR_OK;
  if (g->closing) {
    g->close_polls++;
  } else {
    http_conn_poll(&g->conn, sys_now());
    feed(g);
  }
  check_close(g);
  return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
  struct http_glue *g = arg;
  /* lwIP has freed the pcb already. */
  if (g == NULL || !g->used)
    return;
  if (!g->closing)
    http_conn_closed(&g->conn, err == ERR_RST ? "the connection was reset by the client"
                                               : "the connection broke");
  release(g);
}

/*
 * Every connection is taken: the place of the one that has held it longest without doing
 * what it is there for goes to the new one (http_conn_stalled_ms). One waiting for a request
 * goes first, whatever its time: closing it costs its client only a new connection. Then one
 * behind the minimum body rate, not yet started on its body, or not taking its answer. A
 * closing connection keeps its place (it is gone within RESET_WAIT_POLLS). NULL when all
 * work at speed (http_conn_at_speed): the new one is refused.
 */
static struct http_glue *evict_for(const char *newcomer)
{
  uint32_t now = sys_now();
  struct http_glue *victim = NULL;
  bool victim_waiting = false;
  uint32_t victim_stalled = 0;

  for (unsigned i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
    struct http_glue *g = &server.conns[i];
    if (!g->used || g->closing)
      continue;
    if (http_conn_at_speed(&g->conn, now))
      continue;
    bool waiting = http_conn_waiting(&g->conn);
    uint32_t stalled = http_conn_stalled_ms(&g->conn, now);
    if (victim == NULL || (waiting && !victim_waiting)
        || (waiting == victim_waiting && stalled > victim_stalled)) {
      victim = g;
      victim_waiting = waiting;
      victim_stalled = stalled;
    }
  }
  if (victim == NULL)
    return NULL;
  log_debug("http", "all %u connections busy: closing %s (%s for %u ms) for %s",
            (unsigned)HTTP_MAX_CONNECTIONS, victim->conn.peer,
            victim_waiting ? "waiting" : "slow", (unsigned)victim_stalled, newcomer);
  http_conn_closed(&victim->conn, "its place was given to a new connection (all busy)");
  detach(victim->pcb);
  tcp_abort(victim->pcb);  /* RST: the client learns at once */
  release(victim);
  return victim;
}

/* Gives pcb a place: a free one, or evict_for()'s. Sets its callbacks; NULL when all work
 * at speed (the caller refuses it). */
static struct http_glue *place(struct tcp_pcb *pcb)
{
  struct http_glue *g = NULL;
  char peer[sizeof(g->conn.peer)];
  char ip[IAP_IP4_TEXT_SIZE];

  iap_format_ip4(ip, ip_2_ip4(&pcb->remote_ip));
  iap_snprintf(peer, sizeof(peer), "%s:%u", ip, (unsigned)pcb->remote_port);
  for (unsigned i = 0; i < HTTP_MAX_CONNECTIONS && g == NULL; i++)
    if (!server.conns[i].used)
      g = &server.conns[i];
  if (g == NULL)
    g = evict_for(peer);
  if (g == NULL)
    return NULL;
  memset(g, 0, sizeof(*g) - sizeof(g->conn));
  g->used = true;
  g->pcb = pcb;
  tcp_setprio(pcb, PRIO_NEW);
  http_conn_init(&g->conn, &server.app, &glue_ops, g, peer, sys_now());
  tcp_arg(pcb, g);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  tcp_poll(pcb, on_poll, POLL_TICKS);
  return g;
}

/*
 * A connection that comes while every place is taken waits unplaced: lwIP holds it, this
 * server keeps nothing for it, and it takes a place (evict_for) only with its first bytes.
 * Chosen then, the place goes to a client that sends its request: a browser or curl sends
 * the whole head in one segment, so its request is in progress at once, and a newer
 * connection cannot take its place before the head arrives. One that sends nothing is
 * dropped after HTTP_HEAD_TIMEOUT_MS, or by lwIP when it needs the pcb (PRIO_NEW: after
 * the idle ones, the oldest first). The arg is the server's generation: one accepted
 * before a board reset is dropped, not placed.
 */
static err_t on_recv_unplaced(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct http_glue *g = NULL;

  if (p == NULL || err != ERR_OK) {
    if (p != NULL)
      pbuf_free(p);
    if (tcp_close(pcb) == ERR_OK)  /* the client closed without a request */
      return ERR_OK;
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  if (server.running && (uintptr_t)arg == server.generation)
    g = place(pcb);
  if (g == NULL) {
    if (server.running)
      log_warn("http", "all %u connections busy at full speed: refusing one",
               (unsigned)HTTP_MAX_CONNECTIONS);
    pbuf_free(p);
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  return on_recv(g, pcb, p, ERR_OK);
}

static err_t on_poll_unplaced(void *arg, struct tcp_pcb *pcb)
{
  (void)arg;
  tcp_abort(pcb);  /* nothing in HTTP_HEAD_TIMEOUT_MS: a place is not waited for */
  return ERR_ABRT;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  (void)arg;

  if (err != ERR_OK || pcb == NULL)
    return ERR_VAL;
  for (unsigned i = 0; i < HTTP_MAX_CONNECTIONS; i++)
    if (!server.conns[i].used)
      return place(pcb) != NULL ? ERR_OK : ERR_VAL;
  tcp_setprio(pcb, PRIO_NEW);
  refresh_prios();  /* a SYN may come next: the others' ranks as of now */
  tcp_arg(pcb, (void *)(uintptr_t)server.generation);
  tcp_recv(pcb, on_recv_unplaced);
  tcp_poll(pcb, on_poll_unplaced, (u8_t)(HTTP_HEAD_TIMEOUT_MS / 500u));
  return ERR_OK;
}

err_t http_server_start(const struct http_server_config *cfg)
{
  struct tcp_pcb *pcb;
  err_t err;

  if (server.running)
    return ERR_OK;
  uintptr_t generation = server.generation + 1;
  memset(&server, 0, sizeof(server));
  server.generation = generation;
  http_app_init(&server.app, cfg);
  tcp_initial_set_window(cfg->tcp_window);  /* offered from the SYN-ACK on */
  pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == NULL)
    return ERR_MEM;
  ip_set_option(pcb, SOF_REUSEADDR);  /* and its connections inherit it */
  tcp_setprio(pcb, PRIO_LISTEN);      /* and its handshakes */
  err = tcp_bind(pcb, IP4_ADDR_ANY, HTTP_PORT);
  if (err != ERR_OK) {
    tcp_close(pcb);
    return err;
  }
  server.listen_pcb = tcp_listen_with_backlog(pcb, HTTP_LISTEN_BACKLOG);
  if (server.listen_pcb == NULL) {
    tcp_close(pcb);
    return ERR_MEM;
  }
  tcp_accept(server.listen_pcb, on_accept);
  server.running = true;
  return ERR_OK;
}

void http_server_stop(void)
{
  if (!server.running)
    return;
  for (unsigned i = 0; i < HTTP_MAX_CONNECTIONS; i++) {
    struct http_glue *g = &server.conns[i];
    if (!g->used)
      continue;
    if (!g->closing)
      http_conn_closed(&g->conn, "board reset");
    detach(g->pcb);
    tcp_abort(g->pcb);
    release(g);
  }
  tcp_close(server.listen_pcb);
  server.listen_pcb = NULL;
  server.running = false;
}

const struct http_app *http_server_app(void)
{
  return server.running ? &server.app : NULL;
}
