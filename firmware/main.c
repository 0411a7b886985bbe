/*
 * The bootloader on the STM324xG-EVAL (AN3376 Figure 1): at reset, the Key button held or no
 * valid application in the user flash means IAP mode; otherwise the jump. In IAP mode: the
 * Ethernet netif, lwIP (NO_SYS, polled), DHCP with the static address as fallback, and the
 * IAP servers writing through the flash writer. The decisions and the servers are src/'s,
 * the same code iapd runs.
 *
 * Compile-time options: USE_IAP_TFTP, USE_IAP_HTTP, USE_DHCP, IAP_LOG, MAC_ADDR0..5,
 * IP_ADDR0..3, NETMASK_ADDR0..3, GW_ADDR0..3, USER_FLASH_FIRST_PAGE_ADDRESS (src/iap_opts.h,
 * src/http_opts.h); MII_MODE/RMII_MODE, PHY_CLOCK_MCO and the rest in board_opts.h.
 */
#include "board.h"
#include "board_opts.h"
#include "board_stm32.h"
#include "boot.h"
#include "clock.h"
#include "eth_stm32.h"
#include "iap_opts.h"
#include "iap_writer.h"
#include "log.h"
#include "log_uart.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#if USE_DHCP
#include "lwip/dhcp.h"
#endif
#if USE_IAP_TFTP
#include "tftp_server.h"
#endif
#include "http_opts.h"
#if USE_IAP_HTTP
#include "iap_http.h"
#endif

#if !USE_IAP_TFTP && !USE_IAP_HTTP
#error "a bootloader without USE_IAP_TFTP or USE_IAP_HTTP cannot be updated: enable one"
#endif

static struct netif netif;
static struct iap_writer writer;
static struct boot_decision decision;

static void static_address(ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
  IP4_ADDR(ip, IP_ADDR0, IP_ADDR1, IP_ADDR2, IP_ADDR3);
  IP4_ADDR(mask, NETMASK_ADDR0, NETMASK_ADDR1, NETMASK_ADDR2, NETMASK_ADDR3);
  IP4_ADDR(gw, GW_ADDR0, GW_ADDR1, GW_ADDR2, GW_ADDR3);
}

static void on_status(struct netif *n)
{
  char ip[16];
  if (!ip4_addr_isany_val(*netif_ip4_addr(n)))
    log_info("net", "address %s", ip4addr_ntoa_r(netif_ip4_addr(n), ip, sizeof(ip)));
}

#if USE_DHCP
/* AN3376 5.1: no DHCP server within DHCP_FALLBACK_MS, the static address. */
static void dhcp_fallback(void *arg)
{
  ip4_addr_t ip, mask, gw;
  (void)arg;
  if (dhcp_supplied_address(&netif))
    return;
  dhcp_stop(&netif);
  static_address(&ip, &mask, &gw);
  log_warn("net", "no DHCP answer in %u s: static address", (unsigned)(DHCP_FALLBACK_MS / 1000u));
  netif_set_addr(&netif, &ip, &mask, &gw);
}
#endif

static bool network_start(void)
{
  ip4_addr_t ip, mask, gw;

  lwip_init();
#if USE_DHCP
  ip4_addr_set_zero(&ip);
  ip4_addr_set_zero(&mask);
  ip4_addr_set_zero(&gw);
#else
  static_address(&ip, &mask, &gw);
#endif
  if (!netif_add(&netif, &ip, &mask, &gw, NULL, eth_stm32_netif_init, ethernet_input)) {
    log_err("net", "Ethernet not available: IAP mode cannot be reached over the network");
    return false;
  }
  netif_set_status_callback(&netif, on_status);
  netif_set_default(&netif);
  netif_set_up(&netif);
#if USE_DHCP
  log_info("net", "DHCP started");
  if (dhcp_start(&netif) != ERR_OK)
    log_err("net", "DHCP could not start (lwIP out of memory)");
  sys_timeout(DHCP_FALLBACK_MS, dhcp_fallback, NULL);
#endif
  return true;
}

int main(void)
{
  const struct image_area area = { USER_FLASH_FIRST_PAGE_ADDRESS, USER_FLASH_END_ADDRESS };

  log_uart_init();
  board_key_init();
  log_info("board", "power on, %u MHz%s", (unsigned)(clock_sysclk_hz() / 1000000u),
           clock_source() == CLOCK_PLL_HSE ? ""
           : clock_source() == CLOCK_PLL_HSI ? " (no HSE: the 25 MHz crystal did not start)"
           : " (PLL did not lock: HSI)");

  boot_decide(board_key_pressed(), &area, &decision);
  if (decision.mode == BOOT_APPLICATION)
    board_jump_to_application(decision.msp, decision.pc);
  if (decision.reason == BOOT_REASON_INVALID_APP || decision.reason == BOOT_REASON_FLASH_ERROR)
    log_warn("boot", "cannot start the application: %s", decision.detail);
  log_info("boot", "IAP mode (%s)", boot_reason_str(decision.reason));

  bool net = network_start();
  if (net) {
    iap_writer_init(&writer, &area);
#if USE_IAP_TFTP
    static const struct tftp_limits tftp_limits = { TFTP_MAX_BLKSIZE, TFTP_MAX_WINDOWSIZE };
    if (tftp_server_start(&iap_writer_sink_ops, &writer, &tftp_limits) == ERR_OK)
      log_info("tftp", "server ready on port 69");
    else
      log_err("tftp", "cannot listen on UDP port 69 (lwIP out of memory)");
#endif
#if USE_IAP_HTTP
    iap_http_start(&writer);
#endif
  }

  for (;;) {
    if (net)
      eth_stm32_poll(&netif);
    sys_check_timeouts();
  }
}
