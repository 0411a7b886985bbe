/* The emulated board's lifecycle: its ops for the bootloader (src/board.h), signals, the
 * main loop, start and stop (see iapd.h; the parts it is made of: emul_board.h). */
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

#include "board_opts.h"  /* ETH_RX_DESC_COUNT */
#include "clock_posix.h"
#include "emul_board.h"
#include "log.h"
#include "log_posix.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "sd_notify.h"
#include "stm32f407.h"

/* Longest poll() sleep: lwIP's next timer usually comes sooner. */
#define MAX_SLEEP_MS 1000

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
void emul_board_reset(struct emul_board *b, bool key_held)
{
  b->key_held = key_held;
  if (b->opt->flash_driver == FLASH_DRIVER_STM32)
    flash_regs_model_reset(&b->flash_regs);  /* FLASH_CR locked again, as after a reset */
  bootloader_reset(&b->bl);
}

/* RESET MCU on the HTTP page: a system reset, without Key. */
static void op_system_reset(void *ctx)
{
  emul_board_reset(ctx, false);
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
      emul_board_reset(b, si.ssi_signo == SIGUSR1);
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

static void main_loop(struct emul_board *b)
{
  bool user_net = b->opt->user_net;

  while (!b->quit) {
    uint64_t now = clock_now_us();
    if (b->stall_active && !flash_silicon_busy(&b->silicon, now))
      emul_board_end_stall(b, now);
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
      emul_board_reset(b, b->reset_pending_key);
    }
    if (b->upgrade_running && !b->bl.writer.active)
      emul_board_end_upgrade(b, "ended");
    if (user_net)
      emul_board_follow_address(b);
    /* Every turn, not only when its descriptor is ready: it also sends progress events. */
    if (b->control)
      control_run(b->control, clock_now_ms());
  }
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
  bootloader_init(&b.bl, &cfg, &b.board, emul_board_open_flash(&b));

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
  if (emul_board_setup_network(&b) < 0 || emul_board_start_control(&b) < 0) {
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
  emul_board_reset(&b, opt->key);
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
