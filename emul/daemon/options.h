/*
 * iapd's settings: defaults, the configuration file and the command line (which wins).
 * Every option has a config key of the same name (see man/iapd.8 and man/iapd.conf.5).
 */
#ifndef IAPD_OPTIONS_H
#define IAPD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iap_crypto.h"
#include "iap_slots.h"
#include "flash_silicon.h"
#include "flash_timing.h"

#define IAPD_PATH_MAX 4096
#define IAPD_FORWARD_MAX 16

/* --forward udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT, with --user-net. */
struct iapd_forward {
  bool udp;
  uint8_t host_addr[4];            /* default 127.0.0.1; 0.0.0.0 is every address */
  uint16_t host_port, board_port;  /* 1 to 65535 */
};

struct iapd_options {
  bool foreground;                 /* --foreground: no fork, log to stderr */
  char config_path[IAPD_PATH_MAX]; /* --config; empty: the default file, if it exists */
  char tap[16];                    /* --tap NAME (IFNAMSIZ), default "iapd0" */
  enum { HOST_ADDR_DEFAULT, HOST_ADDR_SET, HOST_ADDR_NONE } host_addr_mode; /* --host-addr */
  uint8_t host_addr[4];            /* default 192.168.0.1 */
  unsigned host_prefix;            /* default 24 */
  char flash_path[IAPD_PATH_MAX];  /* --flash FILE, default "iapd-flash.bin" */
  uint8_t ip[4];                   /* --ip, default 192.168.0.10 */
  uint8_t netmask[4];              /* --netmask, default 255.255.255.0 */
  uint8_t gateway[4];              /* --gateway, default 192.168.0.1 */
  uint8_t mac[6];                  /* --mac, default 00:00:00:00:00:02 */
  uint32_t user_flash;             /* --user-flash ADDR, sector aligned, default 0x08010000 */
  bool key;                        /* --key: Key held at power-on */
  bool exit_on_jump;               /* --exit-on-jump */
  bool tftp;                       /* false with --no-tftp */
  unsigned tftp_max_blksize;       /* --tftp-max-blksize BYTES, 8..1468, default 1468 */
  unsigned tftp_max_windowsize;    /* --tftp-max-windowsize BLOCKS, 1..65535, default 64 */
  bool http;                       /* false with --no-http */
  char http_user[33];              /* --http-user NAME, default "user" */
  char http_password[65];          /* --http-password TEXT, default "stm32" */
  unsigned http_session_timeout;   /* --http-session-timeout SECONDS, default 600 */
  int verbose;                     /* --verbose, repeatable */
  char control[64];                /* --control ADDR:PORT|none, default 127.0.0.1:8069 */
  char pcap_path[IAPD_PATH_MAX];   /* --pcap FILE; empty: no capture */
  char attach[16];                 /* --attach IFACE (libpcap backend); empty: the TAP */
  bool user_net;                   /* --user-net: libslirp instead of a TAP */
  struct iapd_forward forwards[IAPD_FORWARD_MAX]; /* --forward, repeatable; with --user-net
                                      and none given: TFTP 6969/udp, HTTP 8080/tcp */
  unsigned forward_count;
  bool tap_given;                  /* tap set in the file or on the command line */
  bool dhcp;                       /* --dhcp: DHCP, falling back to the static address */
  unsigned dhcp_timeout;           /* --dhcp-timeout SECONDS, default 10 */
  enum { FLASH_DRIVER_DIRECT, FLASH_DRIVER_STM32 } flash_driver; /* --flash-driver */
  enum iap_verify boot_verify;     /* --boot-verify, default integrity */
  enum iap_slots_mode slots;       /* --slots, default single */
  char signing_key_path[IAPD_PATH_MAX]; /* --signing-key FILE; empty: none */
  struct iap_pubkey signing_key;   /* loaded from it by options_parse */
  bool have_signing_key;
  enum flash_timing flash_timing;  /* --flash-timing none|typical|max, default none */
  double flash_timing_scale;       /* --flash-timing-scale FACTOR, default 1 */
  uint32_t power_cut_at_op;        /* --power-cut-at-op N, 0 (default): never */
  enum flash_cut_mode power_cut_mode; /* --power-cut-mode torn|clean, default torn */
  uint64_t seed;                   /* --seed N, default 0 */
};

enum options_status {
  OPTIONS_OK,         /* run the daemon */
  OPTIONS_EXIT,       /* --help or --version printed: exit 0 */
  OPTIONS_ERROR,      /* message printed to err: exit 2 */
};

void options_defaults(struct iapd_options *o);

/* A forward as --forward takes it, complete: "udp:127.0.0.1:6969:69". */
void options_forward_text(const struct iapd_forward *f, char *buf, size_t size);

/* Defaults, then the configuration file (--config, or the default one if it exists), then
 * the command line. Messages go to out (help, version) and err (errors, with file:line for
 * the configuration file). */
enum options_status options_parse(struct iapd_options *o, int argc, char **argv, FILE *out,
                                  FILE *err);

#endif
