/*
 * The bootloader on the STM324xG-EVAL: the chip brought up (clocks by startup.c, the log
 * UART, the Key pin), then src/'s bootloader flow (bootloader.h), the same code iapd runs,
 * with this board (board_stm32.c) and the STM32 FLASH driver (flash_stm32.c).
 *
 * Compile-time options: USE_IAP_TFTP, USE_IAP_HTTP, USE_DHCP, DHCP_FALLBACK_MS, IAP_LOG,
 * MAC_ADDR0..5, IP_ADDR0..3, NETMASK_ADDR0..3, GW_ADDR0..3, USER_FLASH_FIRST_PAGE_ADDRESS,
 * HTTP_DEFAULT_USER/HTTP_DEFAULT_PASSWORD (src/iap_opts.h, src/http_opts.h); MII_MODE/
 * RMII_MODE, PHY_CLOCK_MCO and the rest in board_opts.h.
 */
#include "board_opts.h"
#include "board_stm32.h"
#include "bootloader.h"
#include "clock.h"
#include "eth_stm32.h"
#include "flash_stm32.h"
#include "http_opts.h"
#include "iap_opts.h"
#include "log.h"
#include "log_uart.h"
#include "startup.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "tftp_opts.h"
#include "signing_key.h"

#if !USE_IAP_TFTP && !USE_IAP_HTTP
#error "a bootloader without USE_IAP_TFTP or USE_IAP_HTTP cannot be updated: enable one"
#endif

/* firmware.mk compiles the signature check and the dual layout in only for the builds that
 * ask for them by name in DEFS. */
_Static_assert(IAP_BOOT_VERIFY != IAP_VERIFY_SIGNATURE || IAP_WITH_SIGNATURE,
               "IAP_BOOT_VERIFY is signature but IAP_WITH_SIGNATURE is 0");
_Static_assert(IAP_SLOTS == IAP_SLOTS_SINGLE || IAP_WITH_DUAL_SLOTS,
               "IAP_SLOTS is dual or swap but IAP_WITH_DUAL_SLOTS is 0");
_Static_assert(IAP_BOOT_VERIFY == IAP_VERIFY_VECTORS || IAP_WITH_INTEGRITY,
               "IAP_BOOT_VERIFY checks records but IAP_WITH_INTEGRITY is 0");
_Static_assert(IAP_SLOTS == IAP_SLOTS_SINGLE || IAP_WITH_INTEGRITY,
               "IAP_SLOTS is dual or swap (installs only a verified image) but IAP_WITH_INTEGRITY is 0");

static struct bootloader bootloader;
static struct iap_pubkey signing_key = { IAP_SIGNING_KEY_POINT, { 0 } };

/* The stack's high-water mark in the log, when it has grown since the last report (checked
 * every STACK_REPORT_MS): after an upload the log says how deep the servers went. */
static void report_stack(void)
{
#if IAP_LOG
  static uint32_t reported, last_ms;
  uint32_t now = sys_now();
  if (reported != 0 && now - last_ms < STACK_REPORT_MS)
    return;
  last_ms = now;
  uint32_t used = stack_used_bytes();
  if (used <= reported)
    return;
  reported = used;
  log_info("board", "stack: %u of %u bytes used (high-water mark)", (unsigned)used,
           (unsigned)stack_space_bytes());
#endif
}

int main(void)
{
  static const struct bootloader_config cfg = {
    .area = { USER_FLASH_FIRST_PAGE_ADDRESS, USER_FLASH_END_ADDRESS },
    .slots = IAP_SLOTS,
    .verify = IAP_BOOT_VERIFY,
    .key = IAP_BOOT_VERIFY == IAP_VERIFY_SIGNATURE ? &signing_key : NULL,
    .tftp = USE_IAP_TFTP,
    .tftp_max_blksize = TFTP_MAX_BLKSIZE,
    .tftp_max_windowsize = TFTP_MAX_WINDOWSIZE,
    .http = USE_IAP_HTTP,
    .dhcp = USE_DHCP,
    .dhcp_timeout_ms = DHCP_FALLBACK_MS,
    .ip = { PP_HTONL(LWIP_MAKEU32(IP_ADDR0, IP_ADDR1, IP_ADDR2, IP_ADDR3)) },
    .netmask = { PP_HTONL(LWIP_MAKEU32(NETMASK_ADDR0, NETMASK_ADDR1, NETMASK_ADDR2,
                                       NETMASK_ADDR3)) },
    .gateway = { PP_HTONL(LWIP_MAKEU32(GW_ADDR0, GW_ADDR1, GW_ADDR2, GW_ADDR3)) },
    .http_user = HTTP_DEFAULT_USER,
    .http_password = HTTP_DEFAULT_PASSWORD,
    .http_session_timeout_ms = 0,
  };

  log_uart_init();
  board_key_init();
  log_info("board", "power on, %u MHz%s", (unsigned)(clock_sysclk_hz() / 1000000u),
           clock_source() == CLOCK_PLL_HSE ? ""
           : clock_source() == CLOCK_PLL_HSI ? " (no HSE: the 25 MHz crystal did not start)"
           : " (PLL did not lock: HSI)");

#if BOARD_FAULT_AT_BOOT == 1
  pbuf_free(NULL);  /* test-only: an lwIP assertion (board_opts.h) */
#elif BOARD_FAULT_AT_BOOT == 2
  (void)*(volatile uint32_t *)0x30000000u;  /* test-only: nothing is mapped there */
#endif

  /* The key is checked once, here: a build with a wrong SIGNING_KEY says so at each reset. */
  if (IAP_BOOT_VERIFY == IAP_VERIFY_SIGNATURE) {
    if (!iap_pubkey_init(&signing_key))
      log_err("boot", "the built-in signing key is not a P-256 point: nothing will verify");
  }
  bootloader_init(&bootloader, &cfg, &board_stm32, &flash_stm32_dev);
  bootloader_reset(&bootloader);  /* a valid application: no return */

  for (;;) {
    if (bootloader.netif != NULL)
      eth_stm32_poll(bootloader.netif);
    sys_check_timeouts();
    bootloader_poll(&bootloader);
    report_stack();
  }
}
