/* User-mode networking: the board's port on libslirp (see slirpif.h). */
#include "slirpif.h"

#include <errno.h>
#include <libslirp.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct in_addr in_addr_of(const uint8_t a[4])
{
  struct in_addr in;
  memcpy(&in.s_addr, a, 4);
  return in;
}

/* --- frames to the board: slirp's send_packet fills a queue, netif_backend_poll drains it */

static void event_set(struct slirpif *s)
{
  const uint64_t one = 1;
  /* Cannot fail short of a bug: the counter is far from overflowing, never above 1. */
  if (write(s->event_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
    log_warn("net", "user-net: cannot signal a waiting frame: %s", strerror(errno));
}

static void event_clear(struct slirpif *s)
{
  uint64_t value;
  if (read(s->event_fd, &value, sizeof(value)) < 0 && errno != EAGAIN)
    log_warn("net", "user-net: cannot clear the frame signal: %s", strerror(errno));
}

static ssize_t on_send_packet(const void *buf, size_t len, void *opaque)
{
  struct slirpif *s = opaque;

  if (len > NETIF_BACKEND_FRAME_MAX) {
    s->oversize++;   /* slirp's MTU is 1500: not expected, but never copied past the slot */
    return (ssize_t)len;
  }
  if (s->count == SLIRPIF_QUEUE_FRAMES) {
    /* Dropped as by a MAC whose receive ring is full: TCP resends, TFTP retransmits. */
    s->queue_full++;
    return (ssize_t)len;
  }
  struct slirpif_frame *f = &s->queue[(s->head + s->count) % SLIRPIF_QUEUE_FRAMES];
  memcpy(f->data, buf, len);
  f->len = (uint16_t)len;
  if (s->count++ == 0)
    event_set(s);
  return (ssize_t)len;
}

static ssize_t slirpif_recv(void *dev, uint8_t *buf, size_t size)
{
  struct slirpif *s = dev;

  if (s->count == 0)
    return 0;
  const struct slirpif_frame *f = &s->queue[s->head];
  size_t len = f->len;
  bool fits = len <= size;
  if (fits)
    memcpy(buf, f->data, len);
  /* Taken off the queue either way: a frame the caller cannot hold must not block the rest. */
  s->head = (s->head + 1) % SLIRPIF_QUEUE_FRAMES;
  if (--s->count == 0)
    event_clear(s);
  return fits ? (ssize_t)len : -1;
}

/* Frames from the board: slirp takes them at once; its answers (ARP, DHCP) may already be in
 * the queue when this returns. */
static bool slirpif_send(void *dev, const uint8_t *frame, size_t len)
{
  struct slirpif *s = dev;
  slirp_input(s->slirp, frame, (int)len);
  return true;
}

const struct netif_backend_ops slirpif_ops = { "user", slirpif_send, slirpif_recv };

/* --- slirp's other callbacks ----------------------------------------------------------- */

static void on_guest_error(const char *msg, void *opaque)
{
  (void)opaque;
  log_warn("net", "user-net: slirp: %s", msg);
}

static int64_t on_clock_get_ns(void *opaque)
{
  (void)opaque;
  return now_ns();
}

static void *on_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  struct slirpif *s = opaque;

  for (size_t i = 0; i < SLIRPIF_TIMER_MAX; i++) {
    struct slirpif_timer *t = &s->timers[i];
    if (!t->used) {
      *t = (struct slirpif_timer){ .used = true, .cb = cb, .cb_opaque = cb_opaque };
      return t;
    }
  }
  log_err("net", "user-net: slirp wants more than %d timers; some of its work will not run",
          SLIRPIF_TIMER_MAX);
  return NULL;
}

static void on_timer_free(void *timer, void *opaque)
{
  struct slirpif_timer *t = timer;
  (void)opaque;
  if (t != NULL)
    *t = (struct slirpif_timer){ .used = false };
}

/* expire_time: milliseconds on the clock of on_clock_get_ns. */
static void on_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
  struct slirpif_timer *t = timer;
  (void)opaque;
  if (t == NULL)
    return;
  t->expire_ms = expire_time;
  t->armed = true;
}

/* Descriptors are handed over every turn by slirp_pollfds_fill(): nothing to keep here. */
static void on_register_poll_fd(int fd, void *opaque)
{
  (void)fd;
  (void)opaque;
}

static void on_unregister_poll_fd(int fd, void *opaque)
{
  (void)fd;
  (void)opaque;
}

/* "Kick the io-thread": there is none; slirp's sockets are polled again on the next turn. */
static void on_notify(void *opaque)
{
  (void)opaque;
}

static const SlirpCb callbacks = {
  .send_packet = on_send_packet,
  .guest_error = on_guest_error,
  .clock_get_ns = on_clock_get_ns,
  .timer_new = on_timer_new,
  .timer_free = on_timer_free,
  .timer_mod = on_timer_mod,
  .register_poll_fd = on_register_poll_fd,
  .unregister_poll_fd = on_unregister_poll_fd,
  .notify = on_notify,
};

/* --- set-up ------------------------------------------------------------------------------ */

int slirpif_open(struct slirpif *s, const struct slirpif_config *cfg, char *err,
                 size_t err_size)
{
  SlirpConfig sc;

  memset(s, 0, sizeof(*s));
  s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->event_fd < 0) {
    snprintf(err, err_size, "user-net: cannot create an eventfd: %s", strerror(errno));
    return -1;
  }
  memset(&sc, 0, sizeof(sc));
  sc.version = 3;                /* libslirp 4.3: disable_dns */
  /* Not restricted: in restricted mode slirp's udp_input drops every datagram from the board
   * but DHCP, and the board's TFTP answers with it. */
  sc.restricted = 0;
  sc.in_enabled = true;
  sc.vnetwork = in_addr_of(cfg->network);
  sc.vnetmask = in_addr_of(cfg->netmask);
  sc.vhost = in_addr_of(cfg->host);
  sc.vdhcp_start = in_addr_of(cfg->dhcp_start);
  /* The board asks no names: no DNS proxy, and no second address answering ARP. */
  sc.vnameserver = in_addr_of(cfg->host);
  sc.disable_dns = true;
  sc.in6_enabled = false;        /* the bootloader's lwIP is IPv4 only */
  /* Left false on purpose: a client on 127.0.0.1 appears to the board as slirp's host
   * address, and the board's answers to that address must go back to 127.0.0.1. */
  sc.disable_host_loopback = false;
  s->slirp = slirp_new(&sc, &callbacks, s);
  if (s->slirp == NULL) {
    snprintf(err, err_size, "user-net: libslirp %s refused the network configuration",
             slirp_version_string());
    close(s->event_fd);
    s->event_fd = -1;
    return -1;
  }
  memcpy(s->board, cfg->board, 4);
  return s->event_fd;
}

static void bind_error(const struct slirpif_forward *f, int e, char *err, size_t err_size)
{
  const char *hint = "";

  if (e == EADDRINUSE)
    hint = " (another program has it: pick another host port)";
  else if (e == EACCES && f->host_port < 1024)
    hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE: pick a host port from 1024 "
           "up)";
  else if (e == EADDRNOTAVAIL)
    hint = " (no interface of this host has that address)";
  snprintf(err, err_size, "cannot bind %u.%u.%u.%u:%u/%s: %s%s", f->host_addr[0],
           f->host_addr[1], f->host_addr[2], f->host_addr[3], f->host_port,
           f->udp ? "udp" : "tcp", e ? strerror(e) : "libslirp gave no reason", hint);
}

/* One forward to the board's address s->board. */
static int bind_forward(struct slirpif *s, const struct slirpif_forward *f, char *err,
                        size_t err_size)
{
  errno = 0;
  if (slirp_add_hostfwd(s->slirp, f->udp, in_addr_of(f->host_addr), f->host_port,
                        in_addr_of(s->board), f->board_port) < 0) {
    /* libslirp keeps bind()'s errno: it closes the socket and frees memory only. */
    bind_error(f, errno, err, err_size);
    return -1;
  }
  return 0;
}

int slirpif_add_forward(struct slirpif *s, const struct slirpif_forward *f, char *err,
                        size_t err_size)
{
  if (s->forward_count == SLIRPIF_FORWARD_MAX) {
    snprintf(err, err_size, "more than %d forwards", SLIRPIF_FORWARD_MAX);
    return -1;
  }
  if (bind_forward(s, f, err, err_size) < 0)
    return -1;
  s->forwards[s->forward_count++] = *f;
  return 0;
}

/* libslirp has no call to change where a forward leads: each is removed and bound again,
 * which leaves its host port free for a moment. Connections in progress are not affected:
 * slirp removes only the listening socket. */
int slirpif_follow_board(struct slirpif *s, const uint8_t board[4], char *err,
                         size_t err_size)
{
  int status = 1;

  if (memcmp(s->board, board, 4) == 0)
    return 0;
  memcpy(s->board, board, 4);
  for (unsigned i = 0; i < s->forward_count; i++) {
    const struct slirpif_forward *f = &s->forwards[i];
    char why[256];
    slirp_remove_hostfwd(s->slirp, f->udp, in_addr_of(f->host_addr), f->host_port);
    if (bind_forward(s, f, why, sizeof(why)) < 0 && status == 1) {
      snprintf(err, err_size, "%s", why);
      status = -1;
    }
  }
  return status;
}

/* --- the main loop's poll set ------------------------------------------------------------ */

static int on_add_poll(int fd, int events, void *opaque)
{
  struct slirpif *s = opaque;
  short e = 0;

  if (events & SLIRP_POLL_IN)
    e |= POLLIN;
  if (events & SLIRP_POLL_OUT)
    e |= POLLOUT;
  if (events & SLIRP_POLL_PRI)
    e |= POLLPRI;
  /* POLLERR and POLLHUP are always reported. */
  return poll_set_add(s->polling, fd, e);
}

static int on_get_revents(int idx, void *opaque)
{
  const struct slirpif *s = opaque;
  short r = poll_set_revents(s->polling, idx);
  int events = 0;

  if (r & POLLIN)
    events |= SLIRP_POLL_IN;
  if (r & POLLOUT)
    events |= SLIRP_POLL_OUT;
  if (r & POLLPRI)
    events |= SLIRP_POLL_PRI;
  if (r & (POLLERR | POLLNVAL))
    events |= SLIRP_POLL_ERR;
  if (r & POLLHUP)
    events |= SLIRP_POLL_HUP;
  return events;
}

void slirpif_poll_fill(struct slirpif *s, struct poll_set *ps, int *timeout_ms)
{
  uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
  int64_t now_ms = now_ns() / 1000000;

  s->polling = ps;
  slirp_pollfds_fill(s->slirp, &timeout, on_add_poll, s);
  for (size_t i = 0; i < SLIRPIF_TIMER_MAX; i++) {
    const struct slirpif_timer *t = &s->timers[i];
    if (t->armed) {
      int64_t left = t->expire_ms - now_ms;
      if (left < 0)
        left = 0;
      if ((uint64_t)left < timeout)
        timeout = (uint32_t)left;
    }
  }
  *timeout_ms = timeout > INT32_MAX ? -1 : (int)timeout;
}

void slirpif_poll_dispatch(struct slirpif *s, bool poll_failed)
{
  int64_t now_ms = now_ns() / 1000000;

  slirp_pollfds_poll(s->slirp, poll_failed, on_get_revents, s);
  s->polling = NULL;
  for (size_t i = 0; i < SLIRPIF_TIMER_MAX; i++) {
    struct slirpif_timer *t = &s->timers[i];
    if (t->armed && t->expire_ms <= now_ms) {
      t->armed = false;   /* before the call: the callback may arm it again */
      t->cb(t->cb_opaque);
    }
  }
}

void slirpif_close(struct slirpif *s)
{
  if (s->slirp == NULL)
    return;             /* never opened, or closed already */
  slirp_cleanup(s->slirp);
  s->slirp = NULL;
  close(s->event_fd);
  s->event_fd = -1;
}

const char *slirpif_version(void)
{
  return slirp_version_string();
}
