/* The bootloader flow (see bootloader.h). */
#include "bootloader.h"

#include <string.h>

#include "http_opts.h"
#include "iap_format.h"
#include "iap_random.h"
#include "log.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "tftp_opts.h"
#if USE_IAP_TFTP
#include "tftp_server.h"
#endif
#if USE_IAP_HTTP
#include "http_server.h"
#endif

/* A switch of the configuration as the code reads it: the compile-time option when the
 * configuration is built in (IAP_CONFIG_FIXED, the firmware), so that the compiler drops the
 * branches the build cannot take, texts included; otherwise iapd's command line. */
#define CFG(bl, field, option) (IAP_CONFIG_FIXED ? (option) : (bl)->cfg.field)

void bootloader_init(struct bootloader *bl, const struct bootloader_config *cfg,
                     const struct board *board, const struct flash_dev *flash)
{
  memset(bl, 0, sizeof(*bl));
  bl->cfg = *cfg;
  bl->board = board;
  bl->flash = flash;
  bl->state = BOOTLOADER_OFF;
  iap_random_use(board);
  iap_layout_init(&bl->policy.layout, cfg->slots, &cfg->area);
  bl->policy.verify = cfg->verify;
  bl->policy.key = cfg->key;
  iap_writer_init_policy(&bl->writer, &bl->policy, flash);
}

#if USE_IAP_HTTP
/* RESET MCU (POST /resetmcu.cgi) asks from inside lwIP's callbacks, once its page is
 * acknowledged: bootloader_poll() does it. */
static void on_http_reset(void *ctx)
{
  struct bootloader *bl = ctx;
  bl->reset_requested = true;
}
#endif

static void start_http(struct bootloader *bl, const char *ip)
{
#if USE_IAP_HTTP
  const struct http_server_config http = {
    .sink = &iap_writer_sink_ops,
    .sink_ctx = &bl->writer,
    .board = bl->board,
    .user = bl->cfg.http_user,
    .password = bl->cfg.http_password,
    .session_timeout_ms = bl->cfg.http_session_timeout_ms,
    .user_flash_base = bl->policy.layout.primary.base,
    .user_flash_size = iap_writer_capacity(&bl->writer),
    .tcp_window = bl->cfg.http_tcp_window,
    .request_reset = on_http_reset,
    .reset_ctx = bl,
  };
  if (!CFG(bl, http, USE_IAP_HTTP)) {
    /* Only iapd turns a compiled-in server off; the firmware leaves it out (USE_IAP_HTTP). */
    log_info("http", "disabled (--no-http)");
    return;
  }
  if (http_server_start(&http) != ERR_OK) {
    log_err("http", "cannot listen on TCP port %u (lwIP out of memory)", (unsigned)HTTP_PORT);
    return;
  }
  log_info("http", "server ready on %s port %u", ip, (unsigned)HTTP_PORT);
#else
  (void)bl;
  (void)ip;
#endif
}

static void start_tftp(struct bootloader *bl, const char *ip)
{
#if USE_IAP_TFTP
  if (!CFG(bl, tftp, USE_IAP_TFTP)) {
    log_info("tftp", "disabled (--no-tftp)");
    return;
  }
  const struct tftp_limits limits = {
    bl->cfg.tftp_max_blksize ? bl->cfg.tftp_max_blksize : TFTP_BLKSIZE_MAX,
    bl->cfg.tftp_max_windowsize ? bl->cfg.tftp_max_windowsize : TFTP_WINDOWSIZE_MAX,
  };
  if (tftp_server_start(&iap_writer_sink_ops, &bl->writer, &limits) != ERR_OK) {
    log_err("tftp", "cannot listen on UDP port %u (lwIP out of memory)", (unsigned)TFTP_PORT);
    return;
  }
  log_info("tftp", "server ready on %s port %u", ip, (unsigned)TFTP_PORT);
#else
  (void)bl;
  (void)ip;
#endif
}

/* The address is settled (static, leased, or the fallback): the IAP servers start on it. */
static void start_services(void *ctx)
{
  struct bootloader *bl = ctx;
  char ip[IAP_IP4_TEXT_SIZE] = "";

  if (IAP_LOG)  /* for the log lines only: a firmware without log text needs no formatting */
    iap_format_ip4(ip, netif_ip4_addr(bl->netif));
  start_http(bl, ip);
  start_tftp(bl, ip);
  bl->services_up = true;
}

static void stop_services(struct bootloader *bl)
{
#if USE_IAP_TFTP
  tftp_server_stop();
#endif
#if USE_IAP_HTTP
  http_server_stop();
#endif
  bl->services_up = false;
  bl->reset_requested = false;
  if (bl->netif != NULL)
    net_address_stop(&bl->address);
}

static void enter_iap_mode(struct bootloader *bl)
{
  bl->state = BOOTLOADER_IAP_MODE;
  if (bl->decision.reason == BOOT_REASON_INTEGRITY
      || bl->decision.reason == BOOT_REASON_SIGNATURE)
    log_info("boot", "IAP mode (%s: %s)", boot_reason_str(bl->decision.reason),
             bl->decision.detail);
  else
    log_info("boot", "IAP mode (%s)", boot_reason_str(bl->decision.reason));
  if (bl->netif == NULL) {
    /* lwIP comes up with the first IAP mode: a board that jumps at once never starts it. */
    lwip_init();
    bl->netif = bl->board->ops->netif_start(bl->board->ctx);
    if (bl->netif == NULL) {
      log_err("net", "no network: IAP mode cannot be reached over Ethernet");
      return;
    }
    netif_set_default(bl->netif);
    net_address_init(&bl->address, bl->netif, &bl->cfg.ip, &bl->cfg.netmask,
                     &bl->cfg.gateway, CFG(bl, dhcp, USE_DHCP),
                     CFG(bl, dhcp_timeout_ms, DHCP_FALLBACK_MS), start_services, bl);
  }
  iap_writer_init_policy(&bl->writer, &bl->policy, bl->flash);
  netif_set_up(bl->netif);
  net_address_start(&bl->address);  /* start_services() once the address is settled */
}

void bootloader_reset(struct bootloader *bl)
{
  const struct board *board = bl->board;
  struct boot_decision *d = &bl->decision;

  stop_services(bl);
  /* A completed upload is durable before the decision reads it back (the emulator's file;
   * nothing to do on the chip). */
  flash_sync(bl->flash);
  bl->key_at_reset = board->ops->key_pressed(board->ctx);
  boot_go(bl->key_at_reset, &bl->policy, bl->flash, d);
  if (d->mode == BOOT_APPLICATION) {
    log_info("boot", "jump to application: MSP=0x%08x PC=0x%08x", (unsigned)d->msp,
             (unsigned)d->pc);
    bl->state = BOOTLOADER_APPLICATION;
    if (bl->netif != NULL)
      netif_set_down(bl->netif);
    board->ops->jump(board->ctx, d->msp, d->pc);
    return;
  }
  if (d->reason == BOOT_REASON_INVALID_APP || d->reason == BOOT_REASON_FLASH_ERROR)
    log_warn("boot", "cannot start the application: %s", d->detail);
  enter_iap_mode(bl);
}

void bootloader_poll(struct bootloader *bl)
{
  if (!USE_IAP_HTTP || !bl->reset_requested)  /* only the HTTP page asks */
    return;
  bl->reset_requested = false;
  log_info("board", "reset (RESET MCU on the HTTP page)");
  bl->board->ops->system_reset(bl->board->ctx);
}

enum flash_result bootloader_shutdown(struct bootloader *bl)
{
  stop_services(bl);
  return flash_sync(bl->flash);
}
