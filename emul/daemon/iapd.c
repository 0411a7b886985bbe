/* The emulated board's lifecycle and main loop (see iapd.h). */
#include "iapd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "board.h"
#include "boot.h"
#include "bootloader.h"
#include "clock_posix.h"
#include "control.h"
#include "flash_file.h"
#include "flash_model_dev.h"
#include "flash_regs_model.h"
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
#include "sd_notify.h"
#include "stm32f407.h"
#include "tapif.h"

/* Longest poll() sleep: lwIP's next timer usually comes sooner. */
#define MAX_SLEEP_MS 1000

struct emul_board {
  const struct iapd_options *opt;
  struct flash_file flash;
  struct flash_model_dev flash_direct; /* --flash-driver direct: the chip model */
  struct flash_regs_model flash_regs;  /* --flash-driver stm32: the FLASH interface */
  struct tapif tap;
  struct pcapif pcapif;
  struct netif_backend port;   /* the Ethernet port, over the TAP or over pcapif */
  bool port_added;             /* netif_add() done: lwIP knows the port */
  struct pcap_capture capture; /* --pcap */
  bool capturing;
  struct control *control;     /* --control; NULL when off */
  bool key_held;               /* the Key button, read by the bootloader at reset */
  struct board board;          /* the board ops below, for src/'s bootloader */
  struct bootloader bl;
  int sigfd;
  bool quit;
};

static enum flash_result sync_flash_file(void *ctx)
{
  return flash_file_sync(ctx);
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
      log_info("board", "reset with Key held (SIGUSR1)");
      board_reset(b, true);
      break;
    case SIGUSR2:
      log_info("board", "reset (SIGUSR2)");
      board_reset(b, false);
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

static int setup_network(struct emul_board *b)
{
  const struct iapd_options *o = b->opt;
  char err[256];

  if (o->attach[0] != '\0') {
    int fd = pcapif_open(&b->pcapif, o->attach, err, sizeof(err));
    if (fd < 0) {
      log_err("net", "%s", err);
      return -1;
    }
    netif_backend_init(&b->port, &pcapif_ops, &b->pcapif, fd, o->attach, o->mac);
  } else if (tapif_open(&b->tap, o->tap, err, sizeof(err)) < 0) {
    log_err("net", "%s", err);
    return -1;
  } else if (o->host_addr_mode == HOST_ADDR_SET
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
  if (o->attach[0] == '\0')
    netif_backend_init(&b->port, &tapif_ops, &b->tap, b->tap.fd, o->tap, o->mac);
  if (b->capturing)
    netif_backend_observe(&b->port, pcap_capture_observer, &b->capture);

  log_info("net", "board %u.%u.%u.%u/%u.%u.%u.%u gateway %u.%u.%u.%u%s MAC "
           "%02x:%02x:%02x:%02x:%02x:%02x on %s (%s)",
           o->ip[0], o->ip[1], o->ip[2], o->ip[3],
           o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3],
           o->gateway[0], o->gateway[1], o->gateway[2], o->gateway[3],
           o->dhcp ? " (the fallback: DHCP first)" : "",
           o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4], o->mac[5], b->port.ifname,
           o->attach[0] ? "attached with libpcap" : b->tap.created ? "created" : "existing");
  return 0;
}

static void main_loop(struct emul_board *b)
{
  while (!b->quit) {
    struct pollfd fds[3] = {
      { .fd = b->port.fd, .events = POLLIN },
      { .fd = b->sigfd, .events = POLLIN },
      { .fd = b->control ? control_fd(b->control) : -1, .events = POLLIN },
    };
    u32_t sleep_ms = sys_timeouts_sleeptime();
    int timeout = sleep_ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)sleep_ms;
    int control_ms = b->control ? control_timeout_ms(b->control) : -1;
    if (control_ms >= 0 && control_ms < timeout)
      timeout = control_ms;

    if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
      log_err("board", "poll: %s", strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN)
      netif_backend_poll(&b->port);
    if (fds[1].revents & POLLIN)
      handle_signals(b);
    sys_check_timeouts();
    bootloader_poll(&b->bl);
    /* Every turn, not only when its descriptor is ready: it also sends progress events. */
    if (b->control)
      control_run(b->control, clock_now_ms());
  }
}

/* --- the control server's view of the board ------------------------------------------- */

static void control_status(void *ctx, struct board_status *s)
{
  const struct emul_board *b = ctx;
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
    struct control_slot *sl = &s->slots[i];
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
    control_status, control_reset, b, &b->bl.writer, &b->flash.model,
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
  if (b->capturing)
    pcap_capture_close(&b->capture);
  b->capturing = false;
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
}

/* The flash device --flash-driver picks: the chip model directly, or the firmware's STM32
 * driver over a register model of the FLASH interface. Both sync to the flash file. */
static const struct flash_dev *open_flash_dev(struct emul_board *b)
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
  if (opt->flash_driver == FLASH_DRIVER_STM32)
    log_info("flash", "FLASH interface: %u sector erases, %u program operations, %u bus "
             "errors, %u accesses while BSY", b.flash_regs.erases, b.flash_regs.programs,
             b.flash_regs.bus_errors, b.flash_regs.stalls);
  if (synced != FLASH_OK)
    log_err("flash", "flash file %s could not be synced", opt->flash_path);
  else
    log_info("board", "flash synced, bye");
  sd_notify_send("STOPPING=1", err, sizeof(err));
  close_all(&b);
  close(b.sigfd);
  return 0;
}
