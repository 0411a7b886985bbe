/* The emulated board's lifecycle and main loop (see iapd.h). */
#include "iapd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "board.h"
#include "boot.h"
#include "board_opts.h"  /* ETH_RX_DESC_COUNT */
#include "bootloader.h"
#include "clock_posix.h"
#include "control.h"
#include "flash_file.h"
#include "flash_model_dev.h"
#include "flash_regs_model.h"
#include "flash_silicon.h"
#include "log.h"
#include "log_posix.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "net_address.h"
#include "netif/ethernet.h"
#include "netif_backend.h"
#include "pcap_capture.h"
#include "pcapif.h"
#include "poll_set.h"
#include "sd_notify.h"
#include "slirpif.h"
#include "stm32f407.h"
#include "tapif.h"

/* Longest poll() sleep: lwIP's next timer usually comes sooner. */
#define MAX_SLEEP_MS 1000

struct emul_board {
  const struct iapd_options *opt;
  struct flash_file flash;
  struct flash_model_dev flash_direct; /* --flash-driver direct: the chip model */
  struct flash_regs_model flash_regs;  /* --flash-driver stm32: the FLASH interface */
  struct flash_silicon silicon;        /* around either: time, operation count, power cuts */
  bool stall_active;                   /* a flash operation stalls the board */
  uint64_t stall_start_us;
  bool reset_pending, reset_pending_key; /* a reset signal that came during a stall */
  bool upgrade_running;                /* flash operations of an upload are being summed */
  uint64_t upgrade_us;                 /* their silicon time */
  uint32_t upgrade_erases, upgrade_accesses;
  uint64_t upgrade_stall_us;           /* how long iapd stalled for them */
  bool have_last_upgrade;
  uint64_t last_upgrade_us;
  uint32_t power_cuts;
  struct tapif tap;
  struct pcapif pcapif;
  struct slirpif slirp;        /* --user-net */
  struct netif_backend port;   /* the Ethernet port, over the TAP, pcapif or slirp */
  bool port_added;             /* netif_add() done: lwIP knows the port */
  struct pcap_capture capture; /* --pcap */
  bool capturing;
  struct control *control;     /* --control; NULL when off */
  bool key_held;               /* the Key button, read by the bootloader at reset */
  struct board board;          /* the board ops below, for src/'s bootloader */
  struct bootloader bl;
  int sigfd;
  struct poll_set polls;       /* the main loop's, rebuilt every turn */
  bool quit;
};

static enum flash_result sync_flash_file(void *ctx)
{
  return flash_file_sync(ctx);
}


/* --- the flash as silicon (flash_silicon.h) ---------------------------------------------- */

static uint64_t hook_now_us(void *ctx)
{
  (void)ctx;
  return clock_now_us();
}

/* The parallelism of the operation that just ran: as the STM32 driver set FLASH_CR.PSIZE in
 * the register model, or x32 for the direct device (the eval board's 3.3 V). */
static enum flash_psize hook_psize(void *ctx)
{
  const struct emul_board *b = ctx;
  if (b->opt->flash_driver == FLASH_DRIVER_STM32)
    return (enum flash_psize)(b->flash_regs.last_psize & 3u);
  return FLASH_PSIZE_X32;
}

static void hook_on_op(void *ctx, const struct flash_silicon_op *op)
{
  struct emul_board *b = ctx;
  uint64_t now = clock_now_us();

  if (op->end_us > now) {
    /* From here on the CPU waits for the flash: no frame, no timer, and what the code sends
     * next leaves when the operation ends. */
    if (!b->stall_active) {
      b->stall_active = true;
      b->stall_start_us = op->start_us;
    }
    netif_backend_stall(&b->port);
  }
  /* An upload's operations all run while the writer is active (it is set before the first
   * erase and cleared after the last program). */
  if (b->bl.writer.active && !b->upgrade_running) {
    b->upgrade_running = true;
    b->upgrade_us = b->upgrade_stall_us = 0;
    b->upgrade_erases = b->upgrade_accesses = 0;
  }
  if (b->upgrade_running) {
    b->upgrade_us += op->silicon_us;
    b->upgrade_stall_us += op->end_us - op->start_us;
    if (op->kind == FLASH_OP_ERASE)
      b->upgrade_erases++;
    b->upgrade_accesses += op->accesses;
  }
  log_debug("flash", "operation %u: %s %u bytes at 0x%08x, %u accesses at x%u, %u us",
            (unsigned)op->number, op->kind == FLASH_OP_ERASE ? "erase" : "program",
            (unsigned)op->len, (unsigned)op->addr, (unsigned)op->accesses, 8u << op->psize,
            (unsigned)op->silicon_us);
}

/* --power-cut-at-op: the power fails as that operation begins. Nothing after it runs: the
 * flash file gets what the chip kept, and the process ends. */
static void hook_power_cut(void *ctx, uint32_t op, const char *what)
{
  struct emul_board *b = ctx;
  log_warn("board", "power cut at flash operation %u: %s", (unsigned)op, what);
  if (flash_file_sync(&b->flash) != FLASH_OK)
    log_err("flash", "flash file %s could not be synced", b->opt->flash_path);
  else
    log_info("board", "flash synced, exiting with status 3 (power cut)");
  exit(3);
}

/* The upload whose operations were summed has ended (done, refused, aborted). */
static void end_upgrade(struct emul_board *b, const char *how)
{
  char stalled[96];
  const struct iapd_options *o = b->opt;

  b->upgrade_running = false;
  b->have_last_upgrade = true;
  b->last_upgrade_us = b->upgrade_us;
  if (o->flash_timing == FLASH_TIMING_NONE)
    snprintf(stalled, sizeof(stalled), "iapd did not stall (--flash-timing none)");
  else if (o->flash_timing_scale != 1.0)
    snprintf(stalled, sizeof(stalled), "iapd stalled %.1f s (scale %g)",
             (double)b->upgrade_stall_us / 1e6, o->flash_timing_scale);
  else
    snprintf(stalled, sizeof(stalled), "iapd stalled as long");
  log_info("flash", "%s upload %s: silicon time %.1f s (%s: %u sector erases, %u program "
           "accesses); %s", b->bl.writer.protocol ? b->bl.writer.protocol : "the", how,
           (double)b->upgrade_us / 1e6,
           flash_timing_str(o->flash_timing == FLASH_TIMING_NONE ? FLASH_TIMING_TYPICAL
                                                                 : o->flash_timing),
           (unsigned)b->upgrade_erases, (unsigned)b->upgrade_accesses, stalled);
}

/* --- the board the bootloader runs on (src/board.h) ------------------------------------ */

static bool op_key_pressed(void *ctx)
{
  const struct emul_board *b = ctx;
  return b->key_held;
}

/* The "jump": the application owns the chip now. The bootloader has stopped its services and
 * taken the port down; there is no application code to run, so the board waits for a reset. */
static void op_jump(void *ctx, uint32_t msp, uint32_t pc)
{
  struct emul_board *b = ctx;
  (void)msp;
  (void)pc;
  log_info("boot", "application running: IAP services stopped (SIGUSR1 resets with Key held)");
  if (b->opt->exit_on_jump) {
    log_info("boot", "--exit-on-jump: exiting");
    b->quit = true;
  }
}

/* Power-on or reset: the chip's registers to their reset values, then the bootloader from its
 * reset vector. */
static void board_reset(struct emul_board *b, bool key_held)
{
  b->key_held = key_held;
  if (b->opt->flash_driver == FLASH_DRIVER_STM32)
    flash_regs_model_reset(&b->flash_regs);  /* FLASH_CR locked again, as after a reset */
  bootloader_reset(&b->bl);
}

/* RESET MCU on the HTTP page: a system reset, without Key. */
static void op_system_reset(void *ctx)
{
  board_reset(ctx, false);
}

static struct netif *op_netif_start(void *ctx)
{
  struct emul_board *b = ctx;
  if (!b->port_added) {
    if (!netif_add(&b->port.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &b->port,
                   netif_backend_netif_init, ethernet_input)) {
      log_err("net", "lwIP refused the network interface");
      return NULL;
    }
    netif_set_link_up(&b->port.netif);
    b->port_added = true;
  }
  return &b->port.netif;
}

static bool op_random(void *ctx, void *buf, size_t len)
{
  uint8_t *p = buf;
  (void)ctx;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n <= 0)
      return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

static const struct board_ops emul_board_ops = {
  .key_pressed = op_key_pressed,
  .jump = op_jump,
  .system_reset = op_system_reset,
  .netif_start = op_netif_start,
  .random = op_random,
};

static int open_signals(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return -1;
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* SIGHUP: a new capture file under the same name, for rotation. Nothing else is reloaded. */
static void reopen_capture(struct emul_board *b)
{
  char err[512];
  if (!b->capturing) {
    log_info("board", "SIGHUP: no packet capture to reopen (nothing else is reloaded)");
    return;
  }
  if (pcap_capture_reopen(&b->capture, err, sizeof(err)) < 0)
    log_err("net", "SIGHUP: %s; capture stopped", err);
  else
    log_info("net", "SIGHUP: packet capture %s reopened", b->opt->pcap_path);
}

static void handle_signals(struct emul_board *b)
{
  struct signalfd_siginfo si;
  while (read(b->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    switch (si.ssi_signo) {
    case SIGUSR1:
    case SIGUSR2:
      if (b->stall_active) {
        /* The reset waits for the flash operation (see iapd(8), FLASH TIMING). */
        log_info("board", "%s: reset when the flash operation ends",
                 si.ssi_signo == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
        b->reset_pending = true;
        b->reset_pending_key = si.ssi_signo == SIGUSR1;
        break;
      }
      if (si.ssi_signo == SIGUSR1)
        log_info("board", "reset with Key held (SIGUSR1)");
      else
        log_info("board", "reset (SIGUSR2)");
      board_reset(b, si.ssi_signo == SIGUSR1);
      break;
    case SIGHUP:
      reopen_capture(b);
      break;
    default:
      log_info("board", "exiting on %s", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
      b->quit = true;
      break;
    }
  }
}

static void log_ipv4(char *buf, size_t size, const uint8_t a[4])
{
  snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* --tap: a TAP device, its host side addressed unless told otherwise. */
static int setup_tap(struct emul_board *b, const char **how)
{
  const struct iapd_options *o = b->opt;
  char err[256];

  if (tapif_open(&b->tap, o->tap, err, sizeof(err)) < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  if (o->host_addr_mode == HOST_ADDR_SET
      || (o->host_addr_mode == HOST_ADDR_DEFAULT && b->tap.created)) {
    if (tapif_set_host_addr(&b->tap, o->host_addr, o->host_prefix, err, sizeof(err)) < 0) {
      log_err("net", "%s", err);
      return -1;
    }
    log_info("net", "host side of %s: %u.%u.%u.%u/%u", o->tap, o->host_addr[0],
             o->host_addr[1], o->host_addr[2], o->host_addr[3], o->host_prefix);
  } else if (b->tap.created && tapif_set_host_up(&b->tap, err, sizeof(err)) < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  netif_backend_init(&b->port, &tapif_ops, &b->tap, b->tap.fd, o->tap, o->mac);
  *how = b->tap.created ? "created" : "existing";
  return 0;
}

/* --attach: an existing interface through libpcap. */
static int setup_attach(struct emul_board *b, const char **how)
{
  const struct iapd_options *o = b->opt;
  char err[256];

  int fd = pcapif_open(&b->pcapif, o->attach, err, sizeof(err));
  if (fd < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  netif_backend_init(&b->port, &pcapif_ops, &b->pcapif, fd, o->attach, o->mac);
  *how = "attached with libpcap";
  return 0;
}

/* --user-net: slirp's network is the board's own (ip and netmask), slirp at the gateway's
 * address and leasing from host number 15 of the network. So the board's static default,
 * 192.168.0.10/24 via 192.168.0.1, works as it is, and a DHCP lease (192.168.0.15) is
 * another address. Every forward is bound now: one that cannot be is a start-up error. */
static int setup_user_net(struct emul_board *b, const char **how)
{
  const struct iapd_options *o = b->opt;
  struct slirpif_config cfg;
  char err[256], net[16], host[16], dhcp[16];
  uint32_t network = 0;

  for (int i = 0; i < 4; i++) {
    cfg.network[i] = o->ip[i] & o->netmask[i];
    network = network << 8 | cfg.network[i];
  }
  network += 15;
  for (int i = 0; i < 4; i++)
    cfg.dhcp_start[i] = (uint8_t)(network >> (24 - 8 * i));
  memcpy(cfg.netmask, o->netmask, 4);
  memcpy(cfg.host, o->gateway, 4);
  memcpy(cfg.board, o->ip, 4);
  int fd = slirpif_open(&b->slirp, &cfg, err, sizeof(err));
  if (fd < 0) {
    log_err("net", "%s", err);
    return -1;
  }
  log_ipv4(net, sizeof(net), cfg.network);
  log_ipv4(host, sizeof(host), cfg.host);
  log_ipv4(dhcp, sizeof(dhcp), cfg.dhcp_start);
  log_info("net", "user-mode networking (libslirp %s): network %s/%u.%u.%u.%u, "
           "host %s, DHCP leases from %s", slirpif_version(), net, o->netmask[0], o->netmask[1],
           o->netmask[2], o->netmask[3], host, dhcp);
  for (unsigned i = 0; i < o->forward_count; i++) {
    const struct iapd_forward *f = &o->forwards[i];
    struct slirpif_forward sf = { f->udp, { 0 }, f->host_port, f->board_port };
    char text[40], addr[16];
    memcpy(sf.host_addr, f->host_addr, 4);
    options_forward_text(f, text, sizeof(text));
    if (slirpif_add_forward(&b->slirp, &sf, err, sizeof(err)) < 0) {
      log_err("net", "forward %s: %s", text, err);
      return -1;
    }
    log_ipv4(addr, sizeof(addr), f->host_addr);
    log_info("net", "forward %s: %s %s:%u on this host leads to the board's port %u", text,
             f->udp ? "udp" : "tcp", addr, f->host_port, f->board_port);
    if (f->host_addr[0] != 127)
      log_warn("net", "forward %s: %s is not a loopback address: whoever reaches it can "
               "upload firmware to the board", text, addr);
  }
  if (o->forward_count == 0)
    log_warn("net", "user-mode networking without forwards: nothing reaches the board");
  netif_backend_init(&b->port, &slirpif_ops, &b->slirp, fd, "slirp", o->mac);
  *how = "user-mode networking";
  return 0;
}

static int setup_network(struct emul_board *b)
{
  const struct iapd_options *o = b->opt;
  const char *how = "";
  int rc;

  if (o->user_net)
    rc = setup_user_net(b, &how);
  else if (o->attach[0] != '\0')
    rc = setup_attach(b, &how);
  else
    rc = setup_tap(b, &how);
  if (rc < 0)
    return -1;
  if (b->capturing)
    netif_backend_observe(&b->port, pcap_capture_observer, &b->capture);

  log_info("net", "board %u.%u.%u.%u/%u.%u.%u.%u gateway %u.%u.%u.%u%s MAC "
           "%02x:%02x:%02x:%02x:%02x:%02x on %s (%s)",
           o->ip[0], o->ip[1], o->ip[2], o->ip[3],
           o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3],
           o->gateway[0], o->gateway[1], o->gateway[2], o->gateway[3],
           o->dhcp ? " (the fallback: DHCP first)" : "",
           o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4], o->mac[5], b->port.ifname,
           how);
  return 0;
}

/* The stall has ended: the board's clock lost it (clock_posix.h), what the code sent after
 * the operation goes out, and the frames that waited in the ring reach lwIP. */
static void end_stall(struct emul_board *b, uint64_t now)
{
  b->stall_active = false;
  clock_board_stalled(b->silicon.busy_until_us - b->stall_start_us);
  flash_silicon_settle(&b->silicon, now);
  netif_backend_resume(&b->port);  /* may stall again: a frame that programs flash */
}

/* With --user-net, a forward leads to one address: when a DHCP lease (or the fallback to the
 * static address) moves the board, the forwards follow it. */
static void follow_board_address(struct emul_board *b)
{
  const ip4_addr_t *a = netif_ip4_addr(&b->port.netif);
  uint8_t addr[4];
  char err[256];

  if (!b->port_added || ip4_addr_isany(a))
    return;
  memcpy(addr, &a->addr, 4);   /* network order: first octet first */
  int moved = slirpif_follow_board(&b->slirp, addr, err, sizeof(err));
  if (moved > 0)
    log_info("net", "forwards now lead to the board at %u.%u.%u.%u", addr[0], addr[1],
             addr[2], addr[3]);
  else if (moved < 0)
    log_err("net", "forwards to the board at %u.%u.%u.%u: %s", addr[0], addr[1], addr[2],
            addr[3], err);
}

static void main_loop(struct emul_board *b)
{
  bool user_net = b->opt->user_net;

  while (!b->quit) {
    uint64_t now = clock_now_us();
    if (b->stall_active && !flash_silicon_busy(&b->silicon, now))
      end_stall(b, now);
    int timeout;
    if (b->stall_active) {
      /* lwIP's clock stands still: sleep until the operation ends, or something comes. */
      uint64_t left_ms = (b->silicon.busy_until_us - now + 999u) / 1000u;
      timeout = left_ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)left_ms;
    } else {
      u32_t sleep_ms = sys_timeouts_sleeptime();
      timeout = sleep_ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)sleep_ms;
    }
    int control_ms = b->control ? control_timeout_ms(b->control) : -1;
    if (control_ms >= 0 && control_ms < timeout)
      timeout = control_ms;

    poll_set_clear(&b->polls);
    int port = poll_set_add(&b->polls, b->port.fd, POLLIN);
    int signals = poll_set_add(&b->polls, b->sigfd, POLLIN);
    if (b->control)
      poll_set_add(&b->polls, control_fd(b->control), POLLIN);
    if (user_net)  /* slirp is the host's side of the wire: it runs through a stall */
      slirpif_poll_fill(&b->slirp, &b->polls, &timeout);

    int ready = poll(b->polls.fds, b->polls.count, timeout);
    if (ready < 0 && errno != EINTR) {
      log_err("board", "poll: %s", strerror(errno));
      return;
    }
    if (user_net)
      slirpif_poll_dispatch(&b->slirp, ready < 0);
    if (poll_set_revents(&b->polls, port) & POLLIN)
      netif_backend_poll(&b->port);  /* while stalled: into the receive ring only */
    if (poll_set_revents(&b->polls, signals) & POLLIN)
      handle_signals(b);
    if (!b->stall_active) {
      sys_check_timeouts();
      bootloader_poll(&b->bl);
    }
    flash_file_watch(&b->flash, clock_now_ms());  /* a deleted flash file is logged at once */
    if (!b->stall_active && b->reset_pending) {
      b->reset_pending = false;
      log_info("board", "reset%s (the signal that came during the flash operation)",
               b->reset_pending_key ? " with Key held" : "");
      board_reset(b, b->reset_pending_key);
    }
    if (b->upgrade_running && !b->bl.writer.active)
      end_upgrade(b, "ended");
    if (user_net)
      follow_board_address(b);
    /* Every turn, not only when its descriptor is ready: it also sends progress events. */
    if (b->control)
      control_run(b->control, clock_now_ms());
  }
}

/* --- the control server's view of the board ------------------------------------------- */

static void control_status(void *ctx, struct board_status *s)
{
  struct emul_board *b = ctx;
  const struct netif *n = &b->port.netif;

  s->application = b->bl.state == BOOTLOADER_APPLICATION;
  s->reason = boot_reason_str(b->bl.decision.reason);
  s->detail = b->bl.decision.detail;
  s->key_held = b->bl.key_at_reset;
  s->msp = b->bl.decision.msp;
  s->pc = b->bl.decision.pc;
  s->backend = b->port.ops->kind;
  s->interface = b->port.ifname;
  memcpy(s->mac, b->port.mac, sizeof(s->mac));
  memcpy(s->ip, &netif_ip4_addr(n)->addr, 4);        /* network order: first octet first */
  memcpy(s->netmask, &netif_ip4_netmask(n)->addr, 4);
  memcpy(s->gateway, &netif_ip4_gw(n)->addr, 4);
  s->address_source = net_address_source_str(b->bl.address.source);
  s->up = netif_is_up(n);
  s->rx_frames = b->port.rx_frames;
  s->tx_frames = b->port.tx_frames;
  s->user_flash = b->bl.cfg.area.base;

  const struct boot_decision *d = &b->bl.decision;
  const struct iap_layout *l = &b->bl.policy.layout;
  const struct image_area *areas[2] = { &l->primary, &l->staging };
  const struct iap_slot_status *st[2] = { &d->primary, &d->staging };
  s->boot_verify = iap_verify_str(b->bl.policy.verify);
  s->layout = iap_slots_str(l->mode);
  s->slot_count = l->mode == IAP_SLOTS_DUAL ? 2 : 1;
  for (unsigned i = 0; i < s->slot_count; i++) {
    struct control_image_slot *sl = &s->slots[i];
    sl->name = i == 0 ? "primary" : "staging";
    sl->address = areas[i]->base;
    sl->end = areas[i]->end;
    sl->max_image = iap_slot_capacity(areas[i]);
    sl->content = iap_slot_content_str(st[i]->content);
    sl->detail = st[i]->detail;
    sl->record = st[i]->record_valid;
    sl->seq = st[i]->record.seq;
    sl->image_len = st[i]->record.image_len;
    sl->trailer_len = st[i]->record.trailer_len;
    iap_hex(st[i]->record.sha256, sizeof(st[i]->record.sha256), sl->sha256);
  }
  s->rx_dropped_stalled = b->port.rx_dropped_stalled;
  s->busy = flash_silicon_busy(&b->silicon, clock_now_us());
  s->timing = flash_timing_str(b->opt->flash_timing);
  s->timing_scale = b->opt->flash_timing_scale;
  s->operations = b->silicon.ops;
  s->last_upgrade = b->have_last_upgrade;
  s->last_upgrade_silicon_ms = (uint32_t)(b->last_upgrade_us / 1000u);
  s->power_cuts = b->power_cuts;
  flash_file_check(&b->flash);  /* a file deleted since the last sync shows at once */
  s->flash_error = flash_file_error(&b->flash);
}

static bool control_flash_busy(void *ctx)
{
  const struct emul_board *b = ctx;
  return flash_silicon_busy(&b->silicon, clock_now_us());
}

/* POST /api/power-cut: the power fails now, with an operation in progress torn (or not done),
 * and comes back: a power-on in the same process. The code that was running is torn down
 * without a word or a frame (the board had no power to say anything). */
static void control_power_cut(void *ctx, int mode, struct power_cut_report *out)
{
  struct emul_board *b = ctx;
  static char what[FLASH_SILICON_WHAT_MAX];
  enum flash_cut_mode m = mode < 0 ? b->opt->power_cut_mode
                          : mode == 1 ? FLASH_CUT_CLEAN : FLASH_CUT_TORN;
  uint64_t now = clock_now_us();

  out->operation = flash_silicon_cut_now(&b->silicon, now, m, what, sizeof(what));
  out->operations = b->silicon.ops;  /* those begun: the ones the stall had not reached, not */
  out->mode = flash_cut_mode_str(m);
  out->what = what;
  if (out->operation)
    log_warn("board", "power cut at flash operation %u: %s (POST /api/power-cut)",
             (unsigned)out->operation, what);
  else
    log_warn("board", "power cut after flash operation %u: %s (POST /api/power-cut)",
             (unsigned)out->operations, what);
  b->power_cuts++;
  if (b->stall_active)
    clock_board_stalled(now - b->stall_start_us);
  b->stall_active = false;
  b->reset_pending = false;
  if (b->upgrade_running) {
    b->upgrade_running = false;
    b->have_last_upgrade = true;
    b->last_upgrade_us = b->upgrade_us;
  }
  if (flash_file_sync(&b->flash) != FLASH_OK)
    log_err("flash", "flash file %s could not be synced", b->opt->flash_path);
  netif_backend_power(&b->port, false);
  log_posix_mute(true);
  bootloader_shutdown(&b->bl);
  log_posix_mute(false);
  netif_backend_power(&b->port, true);
  flash_silicon_power_on(&b->silicon);
  log_info("board", "power on%s", b->opt->key ? " with Key held" : "");
  board_reset(b, b->opt->key);
  out->application = b->bl.state == BOOTLOADER_APPLICATION;
}

static void control_reset(void *ctx, bool key_held)
{
  board_reset(ctx, key_held);
}

static void log_to_control(void *ctx, enum iap_log_level level, const char *module,
                           const char *text)
{
  control_log(ctx, level, module, text);
}

static int start_control(struct emul_board *b)
{
  struct control_listen where;
  char err[512];
  const struct control_board view = {
    .status = control_status,
    .reset = control_reset,
    .flash_busy = control_flash_busy,
    .power_cut = control_power_cut,
    .ctx = b,
    .writer = &b->bl.writer,
    .flash = &b->flash.model,
  };

  if (!control_parse_listen(b->opt->control, &where, err, sizeof(err))) {
    log_err("control", "--control %s %s", b->opt->control, err);  /* checked by options */
    return -1;
  }
  if (!where.enabled)
    return 0;
  b->control = control_start(&where, &view, clock_now_ms(), err, sizeof(err));
  if (b->control == NULL) {
    log_err("control", "%s", err);
    return -1;
  }
  log_info("control", "board page and JSON API on http://%s/", where.text);
  if (!where.loopback)
    log_warn("control", "%s is not a loopback address: whoever reaches it can reset the "
             "board and read its flash", where.text);
  log_posix_subscribe(log_to_control, b->control);
  return 0;
}

/* Tells systemd (Type=notify) the board is up; nothing without $NOTIFY_SOCKET. */
static void notify_ready(const struct emul_board *b)
{
  char state[160], err[256];
  snprintf(state, sizeof(state), "READY=1\nSTATUS=%s",
           b->bl.state == BOOTLOADER_APPLICATION ? "application running" : "IAP mode");
  if (sd_notify_send(state, err, sizeof(err)) < 0)
    log_warn("board", "%s", err);
}

static void close_all(struct emul_board *b)
{
  log_posix_subscribe(NULL, NULL);
  control_stop(b->control);
  b->control = NULL;
  pcapif_close(&b->pcapif);
  tapif_close(&b->tap);
  slirpif_close(&b->slirp);
  if (b->capturing)
    pcap_capture_close(&b->capture);
  b->capturing = false;
  poll_set_free(&b->polls);
  flash_file_close(&b->flash);
}

/* What the bootloader is built with on this board: iapd's options. */
static void bootloader_config_from(const struct iapd_options *o, struct bootloader_config *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->area.base = o->user_flash;
  cfg->area.end = STM32_FLASH_END;
  cfg->slots = o->slots;
  cfg->verify = o->boot_verify;
  cfg->key = o->have_signing_key ? &o->signing_key : NULL;
  cfg->tftp = o->tftp;
  cfg->tftp_max_blksize = (uint16_t)o->tftp_max_blksize;
  cfg->tftp_max_windowsize = (uint16_t)o->tftp_max_windowsize;
  cfg->http = o->http;
  cfg->dhcp = o->dhcp;
  cfg->dhcp_timeout_ms = o->dhcp_timeout * 1000u;
  IP4_ADDR(&cfg->ip, o->ip[0], o->ip[1], o->ip[2], o->ip[3]);
  IP4_ADDR(&cfg->netmask, o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3]);
  IP4_ADDR(&cfg->gateway, o->gateway[0], o->gateway[1], o->gateway[2], o->gateway[3]);
  cfg->http_user = o->http_user;
  cfg->http_password = o->http_password;
  cfg->http_session_timeout_ms = o->http_session_timeout * 1000u;
  /* While the flash stalls the board, frames wait in the receive ring the firmware has
   * (netif_backend.h) and the rest are lost: the window is then what the ring holds, as on
   * the board, where TCP_WND is that. Without timing nothing stalls, and iapd's wider window
   * (mk/lwip.am) saves round trips through the TAP. */
  if (o->flash_timing != FLASH_TIMING_NONE)
    cfg->http_tcp_window = ETH_RX_DESC_COUNT * TCP_MSS;
}

/* The flash device --flash-driver picks: the chip model directly, or the firmware's STM32
 * driver over a register model of the FLASH interface. Both sync to the flash file. */
static const struct flash_dev *open_driver(struct emul_board *b)
{
  if (b->opt->flash_driver == FLASH_DRIVER_STM32) {
    b->flash_regs.stuck_psize = -1;
    flash_regs_model_attach(&b->flash_regs, &b->flash.model);
    log_info("flash", "through the STM32 FLASH driver and a register model of the FLASH "
             "interface (--flash-driver stm32)");
    return flash_regs_model_dev(&b->flash_regs, sync_flash_file, &b->flash);
  }
  return flash_model_dev_init(&b->flash_direct, &b->flash.model, sync_flash_file, &b->flash);
}

/* ... and around it, the flash as silicon: time, operation count, power cuts. */
static const struct flash_dev *open_flash_dev(struct emul_board *b)
{
  const struct iapd_options *o = b->opt;
  const struct flash_silicon_config cfg = {
    .timing = o->flash_timing,
    .scale = o->flash_timing_scale,
    .cut_at_op = o->power_cut_at_op,
    .cut_mode = o->power_cut_mode,
    .seed = o->seed,
  };
  const struct flash_silicon_hooks hooks = {
    .now_us = hook_now_us,
    .psize = hook_psize,
    .on_op = hook_on_op,
    .power_cut = hook_power_cut,
    .ctx = b,
  };
  const struct flash_dev *driver = open_driver(b);
  if (o->flash_timing != FLASH_TIMING_NONE)
    log_info("flash", "flash timing: %s (STM32F407 datasheet), stalls scaled by %g",
             flash_timing_str(o->flash_timing), o->flash_timing_scale);
  if (o->power_cut_at_op)
    log_info("flash", "the power fails when flash operation %u begins (%s, seed %llu)",
             (unsigned)o->power_cut_at_op, flash_cut_mode_str(o->power_cut_mode),
             (unsigned long long)o->seed);
  return flash_silicon_init(&b->silicon, driver, &b->flash.model, &cfg, &hooks);
}

int iapd_run(const struct iapd_options *opt)
{
  static struct emul_board b;  /* lwIP keeps pointers to the netif: it must outlive main_loop */
  struct bootloader_config cfg;
  char err[512];
  int sector = stm32_flash_sector_of(opt->user_flash);
  uint32_t protected_sectors = (1u << (unsigned)sector) - 1u;  /* bootloader: below the user area */

  memset(&b, 0, sizeof(b));
  b.opt = opt;
  b.sigfd = -1;
  b.tap.fd = -1;
  b.board.ops = &emul_board_ops;
  b.board.ctx = &b;
  /* stderr until the board is up, so that set-up errors reach the terminal; then syslog
   * when detached. */
  log_posix_setup(false, opt->verbose);

  if (flash_file_open(&b.flash, opt->flash_path, protected_sectors, err, sizeof(err)) < 0) {
    log_err("flash", "%s", err);
    return 1;
  }
  log_info("flash", "%s: STM32F407 1 MiB, user flash 0x%08x-0x%08x, sectors 0-%d protected",
           opt->flash_path, (unsigned)opt->user_flash, (unsigned)(STM32_FLASH_END - 1),
           sector - 1);
  bootloader_config_from(opt, &cfg);
  bootloader_init(&b.bl, &cfg, &b.board, open_flash_dev(&b));

  b.sigfd = open_signals();
  if (b.sigfd < 0) {
    log_err("board", "cannot set up signal handling: %s", strerror(errno));
    flash_file_close(&b.flash);
    return 1;
  }
  if (!poll_set_init(&b.polls, 8)) {
    log_err("board", "out of memory");
    close_all(&b);
    return 1;
  }
  if (opt->pcap_path[0] != '\0') {
    if (pcap_capture_open(&b.capture, opt->pcap_path, err, sizeof(err)) < 0) {
      log_err("net", "%s", err);
      close_all(&b);
      return 1;
    }
    b.capturing = true;
    log_info("net", "capturing every frame to %s", opt->pcap_path);
  }
  if (setup_network(&b) < 0 || start_control(&b) < 0) {
    close_all(&b);
    return 1;
  }
  /* Under systemd (Type=notify) there is no fork: systemd watches this very process. */
  if (sd_notify_wanted()) {
    log_posix_setup(!opt->foreground, opt->verbose);
  } else if (!opt->foreground) {
    if (daemon(1, 0) < 0) {
      log_err("board", "cannot detach: %s", strerror(errno));
      return 1;
    }
    log_posix_setup(true, opt->verbose);
  }
  log_info("board", "power on%s", opt->key ? " with Key held" : "");
  board_reset(&b, opt->key);
  notify_ready(&b);

  main_loop(&b);

  enum flash_result synced = bootloader_shutdown(&b.bl);
  log_info("flash", "%u flash operations since power-on", (unsigned)b.silicon.ops);
  if (opt->flash_driver == FLASH_DRIVER_STM32)
    log_info("flash", "FLASH interface: %u sector erases, %u program operations, %u bus "
             "errors, %u accesses while BSY", b.flash_regs.erases, b.flash_regs.programs,
             b.flash_regs.bus_errors, b.flash_regs.stalls);
  if (synced != FLASH_OK)
    log_err("flash", "flash file %s not saved: %s", opt->flash_path,
            flash_file_error(&b.flash) ? "it was lost while iapd ran (see above)"
                                       : "msync failed");
  else
    log_info("board", "flash synced, bye");
  sd_notify_send("STOPPING=1", err, sizeof(err));
  close_all(&b);
  close(b.sigfd);
  flash_silicon_release(&b.silicon);
  netif_backend_release(&b.port);
  return synced == FLASH_OK ? 0 : 1;  /* what the flash holds did not all reach its file */
}
