/*
 * The bootloader, as one flow both targets run (AN3376 Figure 1, in the spirit of MCUboot's
 * boot_go()): power-on or reset -> boot decision -> jump, or IAP mode -> address (static, or
 * DHCP with the static address as fallback) -> the enabled IAP servers -> run. The target
 * supplies a board (board.h: Key, jump, reset, netif, RNG) and a flash device (flash.h) and
 * calls, from its main loop:
 *
 *   bootloader_init(&bl, &cfg, &board, &flash);
 *   bootloader_reset(&bl);                      power-on; again at every reset
 *   for (;;) { <frames to lwIP>; sys_check_timeouts(); bootloader_poll(&bl); }
 *
 * The log lines are the same on both targets. lwIP's context only (NO_SYS).
 */
#ifndef IAPD_BOOTLOADER_H
#define IAPD_BOOTLOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "boot.h"
#include "flash.h"
#include "iap_slots.h"
#include "iap_writer.h"
#include "image.h"
#include "lwip/ip4_addr.h"
#include "net_address.h"

struct bootloader_config {
  struct image_area area;           /* the user flash */
  enum iap_slots_mode slots;        /* single (AN3376's layout) or dual (iap_slots.h) */
  enum iap_verify verify;           /* what boots: vectors, integrity or signature */
  const struct iap_pubkey *key;     /* the signing key under signature; must outlive it */
  /* The three switches: with IAP_CONFIG_FIXED (the firmware) the compile-time options named
   * are read instead, so that the compiler drops what a build cannot do. */
  bool tftp;                        /* start the TFTP server (compiled in: USE_IAP_TFTP) */
  uint16_t tftp_max_blksize;        /* RFC 2348 blksize answered at most; 0: TFTP_BLKSIZE_MAX */
  uint16_t tftp_max_windowsize;     /* RFC 7440 windowsize answered at most; 0: the default */
  bool http;                        /* start the HTTP server (compiled in: USE_IAP_HTTP) */
  bool dhcp;                        /* DHCP first (compiled in: USE_DHCP) */
  uint32_t dhcp_timeout_ms;         /* no lease by then: the static address */
  ip4_addr_t ip, netmask, gateway;  /* the static address */
  const char *http_user;            /* login and Basic auth; must outlive the bootloader */
  const char *http_password;
  uint32_t http_session_timeout_ms; /* 0: HTTP_SESSION_TIMEOUT_MS */
  uint32_t http_tcp_window;         /* 0: TCP_WND (http_server_config.tcp_window) */
};

enum bootloader_state {
  BOOTLOADER_OFF,          /* before the first reset */
  BOOTLOADER_IAP_MODE,     /* the IAP servers run (or wait for the address) */
  BOOTLOADER_APPLICATION,  /* jumped: the application owns the board */
};

struct bootloader {
  struct bootloader_config cfg;
  struct iap_policy policy;         /* the slots over cfg.area, cfg.verify and cfg.key */
  const struct board *board;
  const struct flash_dev *flash;
  enum bootloader_state state;
  struct boot_decision decision;    /* what the last reset decided, and why */
  bool key_at_reset;
  struct netif *netif;              /* NULL until IAP mode brought the network up */
  struct net_address address;
  struct iap_writer writer;
  bool services_up;
  bool reset_requested;             /* RESET MCU on the HTTP page: reset from the main loop */
};

/* Keeps cfg (copied), board and flash (pointers: they must outlive the bootloader). */
void bootloader_init(struct bootloader *bl, const struct bootloader_config *cfg,
                     const struct board *board, const struct flash_dev *flash);

/* What runs after the bootloader's reset vector: the IAP servers of a previous run stop (a
 * transfer in progress dies with the reset), the Key and the application are checked, and
 * the board jumps or enters IAP mode. On the chip a jump does not return. */
void bootloader_reset(struct bootloader *bl);

/* Every main-loop turn, after sys_check_timeouts(): a reset the HTTP page asked for is done
 * here, outside lwIP's callbacks. */
void bootloader_poll(struct bootloader *bl);

/* The emulator exits: the servers stop, an upload in progress is aborted, flash is synced.
 * Returns the result of that sync. */
enum flash_result bootloader_shutdown(struct bootloader *bl);

#endif
