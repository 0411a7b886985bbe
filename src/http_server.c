/* lwIP raw-API glue for the HTTP server (see http_server.h). */
#include "http_server.h"

#include <string.h>

#include "iap_format.h"
#include "log.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

/* tcp_poll interval, in lwIP's coarse timer ticks of 500 ms. */
#define POLL_TICKS 2
/* A reset waits for its page to be acknowledged, at most this many polls. */
#define RESET_WAIT_POLLS 3

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
  if (tcp_close(pcb) != ERR_OK)
    tcp_abort(pcb);
  release(g);
  if (reset && server.app.cfg.request_reset)
    server.app.cfg.request_reset(server.app.cfg.reset_ctx);
}

/* After every call into the core: close if it asked to. A reset waits until its page is
 * acknowledged (or a few polls), so the browser shows it before the board goes away. */
static void check_close(struct http_glue *g)
{
  if (!g->used || !g->closing)
    return;
  if (g->reset_after && (g->pcb->unsent != NULL || g->pcb->unacked != NULL)
      && g->close_polls < RESET_WAIT_POLLS)
    return;
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

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct http_glue *g = NULL;
  char peer[sizeof(g->conn.peer)];
  char ip[IPADDR_STRLEN_MAX];
  (void)arg;

  if (err != ERR_OK || pcb == NULL)
    return ERR_VAL;
  for (unsigned i = 0; i < HTTP_MAX_CONNECTIONS && g == NULL; i++)
    if (!server.conns[i].used)
      g = &server.conns[i];
  if (g == NULL) {
    log_warn("http", "all %u connections busy: refusing one", (unsigned)HTTP_MAX_CONNECTIONS);
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  memset(g, 0, sizeof(*g) - sizeof(g->conn));
  g->used = true;
  g->pcb = pcb;
  ipaddr_ntoa_r(&pcb->remote_ip, ip, sizeof(ip));
  iap_snprintf(peer, sizeof(peer), "%s:%u", ip, (unsigned)pcb->remote_port);
  http_conn_init(&g->conn, &server.app, &glue_ops, g, peer, sys_now());
  tcp_arg(pcb, g);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  tcp_poll(pcb, on_poll, POLL_TICKS);
  return ERR_OK;
}

err_t http_server_start(const struct http_server_config *cfg)
{
  struct tcp_pcb *pcb;
  err_t err;

  if (server.running)
    return ERR_OK;
  memset(&server, 0, sizeof(server));
  http_app_init(&server.app, cfg);
  pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == NULL)
    return ERR_MEM;
  ip_set_option(pcb, SOF_REUSEADDR);  /* and its connections inherit it */
  err = tcp_bind(pcb, IP4_ADDR_ANY, HTTP_PORT);
  if (err != ERR_OK) {
    tcp_close(pcb);
    return err;
  }
  server.listen_pcb = tcp_listen_with_backlog(pcb, HTTP_MAX_CONNECTIONS);
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
