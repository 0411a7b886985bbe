/* The emulated board's lifecycle and main loop (see iapd.h). */
#include "iapd.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "board.h"
#include "board_posix.h"
#include "boot.h"
#include "flash_file.h"
#include "flash_posix.h"
#include "iap_writer.h"
#include "log.h"
#include "log_posix.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "stm32f407.h"
#include "tapif.h"
#include "tftp_server.h"

/* Longest poll() sleep: lwIP's next timer usually comes sooner. */
#define MAX_SLEEP_MS 1000

enum board_state { BOARD_IAP_MODE, BOARD_APPLICATION };

struct board {
  const struct iapd_options *opt;
  struct flash_file flash;
  struct tapif tap;
  struct image_area area;
  struct iap_writer writer;
  enum board_state state;
  int sigfd;
  bool quit;
};

static enum flash_result sync_flash_file(void *ctx)
{
  return flash_file_sync(ctx);
}

/* The board jumped: the application owns the chip now, the bootloader's services stop. */
static void on_jump(uint32_t msp, uint32_t pc, void *ctx)
{
  struct board *b = ctx;
  (void)msp;
  (void)pc;
  b->state = BOARD_APPLICATION;
  tftp_server_stop();
  netif_set_down(&b->tap.netif);
  log_info("boot", "application running: IAP services stopped (SIGUSR1 resets with Key held)");
  if (b->opt->exit_on_jump) {
    log_info("boot", "--exit-on-jump: exiting");
    b->quit = true;
  }
}

static void start_iap_mode(struct board *b, const struct boot_decision *d)
{
  char ip[16];
  b->state = BOARD_IAP_MODE;
  log_info("boot", "IAP mode (%s)", boot_reason_str(d->reason));
  netif_set_up(&b->tap.netif);
  iap_writer_init(&b->writer, &b->area);
  if (!b->opt->tftp) {
    log_info("tftp", "disabled (--no-tftp)");
    return;
  }
  ip4addr_ntoa_r(netif_ip4_addr(&b->tap.netif), ip, sizeof(ip));
  if (tftp_server_start(&iap_writer_sink_ops, &b->writer) != ERR_OK) {
    log_err("tftp", "cannot listen on UDP port 69 (lwIP out of memory)");
    return;
  }
  log_info("tftp", "server ready on %s port 69", ip);
}

/* Power-on or reset: what the chip does after the reset vector of the bootloader. */
static void board_reset(struct board *b, bool key_held)
{
  struct boot_decision d;

  tftp_server_stop();  /* a transfer in progress dies with the reset */
  flash_sync();
  boot_decide(key_held, &b->area, &d);
  if (d.mode == BOOT_APPLICATION) {
    board_jump_to_application(d.msp, d.pc);
    return;
  }
  if (d.reason == BOOT_REASON_INVALID_APP || d.reason == BOOT_REASON_FLASH_ERROR)
    log_warn("boot", "cannot start the application: %s", d.detail);
  start_iap_mode(b, &d);
}

static int open_signals(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    return -1;
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void handle_signals(struct board *b)
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
    default:
      log_info("board", "exiting on %s", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
      b->quit = true;
      break;
    }
  }
}

static int setup_network(struct board *b)
{
  const struct iapd_options *o = b->opt;
  char err[256];
  ip4_addr_t ip, mask, gw;

  if (tapif_open(&b->tap, o->tap, o->mac, err, sizeof(err)) < 0) {
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

  lwip_init();
  IP4_ADDR(&ip, o->ip[0], o->ip[1], o->ip[2], o->ip[3]);
  IP4_ADDR(&mask, o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3]);
  IP4_ADDR(&gw, o->gateway[0], o->gateway[1], o->gateway[2], o->gateway[3]);
  if (!netif_add(&b->tap.netif, &ip, &mask, &gw, &b->tap, tapif_netif_init, ethernet_input)) {
    log_err("net", "lwIP refused the network interface");
    return -1;
  }
  netif_set_default(&b->tap.netif);
  netif_set_link_up(&b->tap.netif);
  log_info("net", "board %u.%u.%u.%u/%u.%u.%u.%u gateway %u.%u.%u.%u MAC "
           "%02x:%02x:%02x:%02x:%02x:%02x on %s (%s)",
           o->ip[0], o->ip[1], o->ip[2], o->ip[3],
           o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3],
           o->gateway[0], o->gateway[1], o->gateway[2], o->gateway[3],
           o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4], o->mac[5], o->tap,
           b->tap.created ? "created" : "existing");
  return 0;
}

static void main_loop(struct board *b)
{
  while (!b->quit) {
    struct pollfd fds[2] = {
      { .fd = b->tap.fd, .events = POLLIN },
      { .fd = b->sigfd, .events = POLLIN },
    };
    u32_t sleep_ms = sys_timeouts_sleeptime();
    int timeout = sleep_ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)sleep_ms;

    if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
      log_err("board", "poll: %s", strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN)
      tapif_poll(&b->tap);
    if (fds[1].revents & POLLIN)
      handle_signals(b);
    sys_check_timeouts();
  }
}

int iapd_run(const struct iapd_options *opt)
{
  static struct board b;  /* lwIP keeps pointers to the netif: it must outlive main_loop */
  char err[512];
  int sector = stm32_flash_sector_of(opt->user_flash);
  uint32_t protected_sectors = (1u << (unsigned)sector) - 1u;  /* bootloader: below the user area */

  memset(&b, 0, sizeof(b));
  b.opt = opt;
  b.sigfd = -1;
  b.tap.fd = -1;
  b.area.base = opt->user_flash;
  b.area.end = STM32_FLASH_END;
  /* stderr until the board is up, so that set-up errors reach the terminal; then syslog
   * when detached. */
  log_posix_setup(false, opt->verbose);

  if (flash_file_open(&b.flash, opt->flash_path, protected_sectors, err, sizeof(err)) < 0) {
    log_err("flash", "%s", err);
    return 1;
  }
  flash_posix_attach(&b.flash.model, sync_flash_file, &b.flash);
  log_info("flash", "%s: STM32F407 1 MiB, user flash 0x%08x-0x%08x, sectors 0-%d protected",
           opt->flash_path, b.area.base, b.area.end - 1, sector - 1);

  b.sigfd = open_signals();
  if (b.sigfd < 0) {
    log_err("board", "cannot set up signal handling: %s", strerror(errno));
    flash_file_close(&b.flash);
    return 1;
  }
  if (setup_network(&b) < 0) {
    tapif_close(&b.tap);
    flash_file_close(&b.flash);
    return 1;
  }
  if (!opt->foreground) {
    if (daemon(1, 0) < 0) {
      log_err("board", "cannot detach: %s", strerror(errno));
      return 1;
    }
    log_posix_setup(true, opt->verbose);
  }
  board_posix_on_jump(on_jump, &b);
  log_info("board", "power on%s", opt->key ? " with Key held" : "");
  board_reset(&b, opt->key);

  main_loop(&b);

  tftp_server_stop();
  if (flash_sync() != FLASH_OK)
    log_err("flash", "flash file %s could not be synced", opt->flash_path);
  else
    log_info("board", "flash synced, bye");
  tapif_close(&b.tap);
  flash_file_close(&b.flash);
  close(b.sigfd);
  return 0;
}
