/*
 * iapd's settings (options.h): built-in defaults, then the configuration file, then the
 * command line. One table below names every option once; getopt_long's array, the short
 * option string, the configuration keys and --help are all made from it, so they cannot
 * drift apart. Every check of a value is written once and used for both sources.
 */
#include "config.h"
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control_api.h"
#include "http_opts.h"
#include "iap_opts.h"
#include "lwip/init.h"
#include "iap_swap.h"
#include "signing_key.h"
#include "stm32f407.h"
#include "tftp_opts.h"
#include "tftp_proto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG_PATH SYSCONFDIR "/iapd.conf"
#define FORWARD_FORM "udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT"
#define FORWARD_EXPECTED "(expected " FORWARD_FORM ", as in udp:127.0.0.1:6969:69)"

/* Options with a short form use its character as id; long-only ones count up from 256. */
enum option_id {
  OPT_FOREGROUND = 'f',
  OPT_CONFIG = 'c',
  OPT_TAP = 't',
  OPT_KEY = 'k',
  OPT_VERBOSE = 'v',
  OPT_VERSION = 'V',
  OPT_HELP = 'h',
  OPT_HOST_ADDR = 256,
  OPT_FLASH,
  OPT_IP,
  OPT_NETMASK,
  OPT_GATEWAY,
  OPT_MAC,
  OPT_USER_FLASH,
  OPT_EXIT_ON_JUMP,
  OPT_NO_TFTP,
  OPT_TFTP_MAX_BLKSIZE,
  OPT_TFTP_MAX_WINDOWSIZE,
  OPT_NO_HTTP,
  OPT_HTTP_USER,
  OPT_HTTP_PASSWORD,
  OPT_HTTP_SESSION_TIMEOUT,
  OPT_CONTROL,
  OPT_PCAP,
  OPT_ATTACH,
  OPT_DHCP,
  OPT_DHCP_TIMEOUT,
  OPT_FLASH_DRIVER,
  OPT_BOOT_VERIFY,
  OPT_SIGNING_KEY,
  OPT_SLOTS,
  OPT_FLASH_TIMING,
  OPT_FLASH_TIMING_SCALE,
  OPT_POWER_CUT_AT_OP,
  OPT_POWER_CUT_MODE,
  OPT_SEED,
  OPT_USER_NET,
  OPT_FORWARD,
};

struct option_spec {
  const char *name; /* long option, without the dashes */
  int id;           /* enum option_id */
  const char *arg;  /* argument name shown by --help; NULL: the option takes none */
  const char *key;  /* configuration key; NULL: command line only */
  const char *help; /* --help text, lines separated by '\n' */
};

static const struct option_spec specs[] = {
  { "foreground", OPT_FOREGROUND, NULL, "foreground",
    "stay in the foreground and log to stderr\n(default: detach and log to syslog)" },
  { "config", OPT_CONFIG, "FILE", NULL,
    "configuration file, read only if it exists\n(default: " DEFAULT_CONFIG_PATH ")" },
  { "tap", OPT_TAP, "NAME", "tap",
    "TAP device, created if absent (default: iapd0)" },
  { "attach", OPT_ATTACH, "IFACE", "attach",
    "attach the board to the existing interface IFACE\n"
    "with libpcap instead of a TAP (a veth end, a\n"
    "bridge port); needs CAP_NET_RAW" },
  { "host-addr", OPT_HOST_ADDR, "ADDR/PREFIX|none", "host-addr",
    "host side address of the TAP; the default,\n"
    "192.168.0.1/24, is set only on a TAP iapd creates;\n"
    "an address given here is set even on an existing\n"
    "TAP; none leaves the TAP's addresses alone" },
  { "user-net", OPT_USER_NET, NULL, "user-net",
    "user-mode networking (libslirp) instead of a TAP:\n"
    "no privileges needed; the host reaches the board\n"
    "through --forward (default: udp 127.0.0.1:6969 to\n"
    "the board's port 69, tcp 127.0.0.1:8080 to port 80)" },
  { "forward", OPT_FORWARD, FORWARD_FORM, "forward",
    "with --user-net: the host's HOSTADDR:HOSTPORT\n"
    "(HOSTADDR 127.0.0.1 if left out) leads to the\n"
    "board's BOARDPORT; repeat for more" },
  { "flash", OPT_FLASH, "FILE", "flash",
    "flash image file, 1 MiB, created erased if missing\n(default: iapd-flash.bin)" },
  { "flash-driver", OPT_FLASH_DRIVER, "direct|stm32", "flash-driver",
    "how the IAP code reaches the flash: direct (the\n"
    "chip model) or stm32 (the firmware's FLASH driver\n"
    "over a register model of the FLASH interface)\n"
    "(default: direct)" },
  { "boot-verify", OPT_BOOT_VERIFY, "vectors|integrity|signature", "boot-verify",
    "what the bootloader starts: vectors (AN3376's\n"
    "vector table check only), integrity (a commit\n"
    "record whose SHA-256 matches the image) or\n"
    "signature (integrity and a signature by the key\n"
    "of --signing-key) (default: integrity)" },
  { "signing-key", OPT_SIGNING_KEY, "FILE", "signing-key",
    "public key (PEM or DER, ECDSA P-256) that images\n"
    "must be signed with under --boot-verify signature" },
  { "slots", OPT_SLOTS, "single|dual|swap", "slots",
    "single: one slot, uploads erase the running image\n"
    "(AN3376); dual: uploads go to a staging slot and\n"
    "are copied into primary at reset; swap: the same,\n"
    "but images swap through a scratch sector and the\n"
    "old one stays as the fallback (needs user-flash\n"
    "0x08020000) (default: single)" },
  { "flash-timing", OPT_FLASH_TIMING, "none|typical|max", "flash-timing",
    "flash operations take the STM32F407 datasheet's\n"
    "typical or maximum time, and the board stalls\n"
    "while one runs; none: instant (default: none)" },
  { "flash-timing-scale", OPT_FLASH_TIMING_SCALE, "FACTOR", "flash-timing-scale",
    "multiply the stall of every flash operation by\n"
    "FACTOR, greater than 0 and at most 1000, as in\n"
    "0.01 (default: 1)" },
  { "power-cut-at-op", OPT_POWER_CUT_AT_OP, "N", "power-cut-at-op",
    "the power fails when flash operation N (counted\n"
    "from power-on, from 1) begins: iapd syncs the\n"
    "flash file and exits with status 3\n"
    "(default: the power never fails)" },
  { "power-cut-mode", OPT_POWER_CUT_MODE, "torn|clean", "power-cut-mode",
    "what a power cut leaves of the operation it\n"
    "interrupts: torn (part of it, some bits of one\n"
    "word) or clean (none of it) (default: torn)" },
  { "seed", OPT_SEED, "N", "seed",
    "seed of the random choices of a torn operation,\n"
    "0 to 18446744073709551615 (default: 0)" },
  { "ip", OPT_IP, "ADDR", "ip",
    "board IPv4 address (default: 192.168.0.10)" },
  { "netmask", OPT_NETMASK, "ADDR", "netmask",
    "board netmask (default: 255.255.255.0)" },
  { "gateway", OPT_GATEWAY, "ADDR", "gateway",
    "board gateway, 0.0.0.0 for none\n(default: 192.168.0.1)" },
  { "mac", OPT_MAC, "XX:XX:XX:XX:XX:XX", "mac",
    "board MAC address (default: 00:00:00:00:00:02)" },
  { "dhcp", OPT_DHCP, NULL, "dhcp",
    "get the board's address by DHCP; without an answer\n"
    "within --dhcp-timeout, use the static address (--ip)" },
  { "dhcp-timeout", OPT_DHCP_TIMEOUT, "SECONDS", "dhcp-timeout",
    "how long --dhcp waits for a lease before it uses\n"
    "the static address (default: 10)" },
  { "user-flash", OPT_USER_FLASH, "ADDR", "user-flash",
    "start of the application flash: the first address\n"
    "of a sector from 1 to 11, in hex (0x...) or decimal\n"
    "(default: 0x08010000)" },
  { "key", OPT_KEY, NULL, "key",
    "hold the Key button at power-on: IAP mode even\nwith a valid application" },
  { "exit-on-jump", OPT_EXIT_ON_JUMP, NULL, "exit-on-jump",
    "exit 0 right after reporting the jump to the\napplication" },
  { "no-tftp", OPT_NO_TFTP, NULL, "tftp",
    "do not start the TFTP server in IAP mode" },
  { "tftp-max-blksize", OPT_TFTP_MAX_BLKSIZE, "BYTES", "tftp-max-blksize",
    "largest TFTP block size (RFC 2348 blksize) the\n"
    "board answers, 8 to 1468 (default: 1468, what one\n"
    "Ethernet frame carries)" },
  { "tftp-max-windowsize", OPT_TFTP_MAX_WINDOWSIZE, "BLOCKS", "tftp-max-windowsize",
    "largest TFTP window (RFC 7440 windowsize) the\n"
    "board answers, 1 to 65535 (default: 64)" },
  { "no-http", OPT_NO_HTTP, NULL, "http",
    "do not start the HTTP server (login, upload\npage, PUT /firmware) in IAP mode" },
  { "http-user", OPT_HTTP_USER, "NAME", "http-user",
    "user ID of the HTTP login and Basic auth,\n1 to 32 characters, no ':' (default: user)" },
  { "http-password", OPT_HTTP_PASSWORD, "TEXT", "http-password",
    "password of the HTTP login and Basic auth,\n1 to 64 characters (default: stm32)" },
  { "http-session-timeout", OPT_HTTP_SESSION_TIMEOUT, "SECONDS", "http-session-timeout",
    "an HTTP login session ends after this long\nwithout a request (default: 600)" },
  { "control", OPT_CONTROL, "ADDR:PORT|none", "control",
    "control server (JSON API, board page) address;\n"
    "none turns it off (default: " CONTROL_DEFAULT_LISTEN ")" },
  { "pcap", OPT_PCAP, "FILE", "pcap",
    "write every frame the board sends or receives to\n"
    "FILE, a pcap capture (- for standard output)" },
  { "verbose", OPT_VERBOSE, NULL, "verbose",
    "log more (debug lines); repeat for more" },
  { "version", OPT_VERSION, NULL, NULL,
    "print the iapd and lwIP versions and exit" },
  { "help", OPT_HELP, NULL, NULL,
    "print this help and exit" },
};

#define SPEC_COUNT (sizeof(specs) / sizeof(specs[0]))
#define WHY_SIZE 256
#define VERBOSE_MAX 9

/* The board's network and flash defaults are the firmware's (iap_opts.h, after AN3376), so
 * an unconfigured iapd answers where an unconfigured board would. The --help text above and
 * tests/check_options.c spell the same values out. */
void options_defaults(struct iapd_options *o)
{
  static const uint8_t host_addr[4] = { 192, 168, 0, 1 };
  static const uint8_t ip[4] = { IP_ADDR0, IP_ADDR1, IP_ADDR2, IP_ADDR3 };
  static const uint8_t netmask[4] = { NETMASK_ADDR0, NETMASK_ADDR1, NETMASK_ADDR2,
                                      NETMASK_ADDR3 };
  static const uint8_t gateway[4] = { GW_ADDR0, GW_ADDR1, GW_ADDR2, GW_ADDR3 };
  static const uint8_t mac[6] = { MAC_ADDR0, MAC_ADDR1, MAC_ADDR2, MAC_ADDR3, MAC_ADDR4,
                                  MAC_ADDR5 };

  memset(o, 0, sizeof(*o));
  o->foreground = false;
  o->config_path[0] = '\0';
  strcpy(o->tap, "iapd0");
  o->host_addr_mode = HOST_ADDR_DEFAULT;
  memcpy(o->host_addr, host_addr, sizeof(o->host_addr));
  o->host_prefix = 24;
  strcpy(o->flash_path, "iapd-flash.bin");
  memcpy(o->ip, ip, sizeof(o->ip));
  memcpy(o->netmask, netmask, sizeof(o->netmask));
  memcpy(o->gateway, gateway, sizeof(o->gateway));
  memcpy(o->mac, mac, sizeof(o->mac));
  o->user_flash = USER_FLASH_FIRST_PAGE_ADDRESS;
  o->key = false;
  o->exit_on_jump = false;
  o->tftp = true;
  o->tftp_max_blksize = TFTP_BLKSIZE_MAX;
  o->tftp_max_windowsize = TFTP_WINDOWSIZE_MAX;
  o->http = true;
  strcpy(o->http_user, HTTP_DEFAULT_USER);
  strcpy(o->http_password, HTTP_DEFAULT_PASSWORD);
  o->http_session_timeout = HTTP_SESSION_TIMEOUT_MS / 1000u;
  o->verbose = 0;
  strcpy(o->control, CONTROL_DEFAULT_LISTEN);
  o->pcap_path[0] = '\0';
  o->attach[0] = '\0';
  o->tap_given = false;
  o->dhcp = false;
  o->dhcp_timeout = DHCP_FALLBACK_MS / 1000u;
  o->flash_driver = FLASH_DRIVER_DIRECT;
  o->boot_verify = IAP_VERIFY_INTEGRITY;
  o->slots = IAP_SLOTS_SINGLE;
  o->signing_key_path[0] = '\0';
  o->have_signing_key = false;
  o->flash_timing = FLASH_TIMING_NONE;
  o->flash_timing_scale = 1.0;
  o->power_cut_at_op = 0;
  o->power_cut_mode = FLASH_CUT_TORN;
  o->seed = 0;
  o->user_net = false;
  o->forward_count = 0;
}

void options_forward_text(const struct iapd_forward *f, char *buf, size_t size)
{
  snprintf(buf, size, "%s:%u.%u.%u.%u:%u:%u", f->udp ? "udp" : "tcp", f->host_addr[0],
           f->host_addr[1], f->host_addr[2], f->host_addr[3], f->host_port, f->board_port);
}

static const struct option_spec *spec_by_id(int id)
{
  for (size_t i = 0; i < SPEC_COUNT; i++)
    if (specs[i].id == id)
      return &specs[i];
  return NULL;
}

/* --- value checks: each returns false and says in why what is wrong with the text ------ */

static uint32_t ipv4_to_u32(const uint8_t a[4])
{
  return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* Dotted decimal only: inet_pton refuses the short and octal forms inet_aton would take. */
static bool parse_ipv4(const char *text, uint8_t out[4], char *why, size_t size)
{
  struct in_addr a;

  if (inet_pton(AF_INET, text, &a) != 1) {
    snprintf(why, size, "is not an IPv4 address (expected four numbers from 0 to 255, "
             "as in 192.168.0.10)");
    return false;
  }
  memcpy(out, &a.s_addr, 4); /* network order: out[0] is the first number */
  return true;
}

/* An address a host can own: not 0.x (this network), 127.x (loopback), 224.x and up
 * (multicast, reserved, broadcast). */
static bool parse_unicast(const char *text, uint8_t out[4], char *why, size_t size)
{
  uint8_t a[4];

  if (!parse_ipv4(text, a, why, size))
    return false;
  if (a[0] == 0 || a[0] == 127 || a[0] >= 224) {
    snprintf(why, size, "is not a unicast address (0.x.x.x, 127.x.x.x and 224.0.0.0 "
             "and above are reserved; use one as in 192.168.0.10)");
    return false;
  }
  memcpy(out, a, 4);
  return true;
}

static bool parse_netmask(const char *text, uint8_t out[4], char *why, size_t size)
{
  uint8_t a[4];

  if (!parse_ipv4(text, a, why, size))
    return false;
  uint32_t inverse = ~ipv4_to_u32(a);
  /* Contiguous: the zero bits form one run at the bottom, so inverse + 1 is a power of 2. */
  if (inverse == 0xFFFFFFFFu || (inverse & (inverse + 1)) != 0) {
    snprintf(why, size, "is not a netmask (expected leading one bits followed by zero "
             "bits, as in 255.255.255.0)");
    return false;
  }
  memcpy(out, a, 4);
  return true;
}

/* 0.0.0.0 means no gateway; lwIP then reaches only the board's own subnet. */
static bool parse_gateway(const char *text, uint8_t out[4], char *why, size_t size)
{
  uint8_t a[4];

  if (!parse_ipv4(text, a, why, size))
    return false;
  if (ipv4_to_u32(a) != 0 && !parse_unicast(text, a, why, size))
    return false;
  memcpy(out, a, 4);
  return true;
}

static bool parse_host_addr(const char *text, struct iapd_options *o, char *why, size_t size)
{
  char addr[INET_ADDRSTRLEN];
  const char *slash = strchr(text, '/');
  uint8_t a[4];

  if (strcmp(text, "none") == 0) {
    o->host_addr_mode = HOST_ADDR_NONE;
    return true;
  }
  if (slash == NULL || (size_t)(slash - text) >= sizeof(addr)) {
    snprintf(why, size, "is not ADDR/PREFIX or none (expected as in 192.168.0.1/24)");
    return false;
  }
  memcpy(addr, text, (size_t)(slash - text));
  addr[slash - text] = '\0';
  if (!parse_unicast(addr, a, why, size))
    return false;

  const char *p = slash + 1;
  unsigned prefix = 0;
  size_t digits = 0;
  for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
    prefix = prefix * 10 + (unsigned)(*p - '0');
  if (digits == 0 || *p != '\0' || prefix < 1 || prefix > 32) {
    snprintf(why, size, "has no valid prefix length (expected /1 to /32 after the "
             "address, as in 192.168.0.1/24)");
    return false;
  }
  o->host_addr_mode = HOST_ADDR_SET;
  memcpy(o->host_addr, a, 4);
  o->host_prefix = prefix;
  return true;
}

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static bool parse_mac(const char *text, uint8_t out[6], char *why, size_t size)
{
  uint8_t m[6];
  const char *p = text;

  for (int i = 0; i < 6; i++) {
    int hi = hex_digit(p[0]);
    int lo = hi < 0 ? -1 : hex_digit(p[1]);
    char next = lo < 0 ? '\0' : p[2];
    if (lo < 0 || next != (i < 5 ? ':' : '\0')) {
      snprintf(why, size, "is not a MAC address (expected six two-digit hex numbers "
               "separated by colons, as in 00:00:00:00:00:02)");
      return false;
    }
    m[i] = (uint8_t)(hi << 4 | lo);
    p += 3;
  }
  /* IEEE 802 I/G bit: a group address cannot be a station's source address. */
  if (m[0] & 1) {
    snprintf(why, size, "is a multicast address (the low bit of the first octet is set; "
             "use an even first octet, as in 02:00:00:00:00:01)");
    return false;
  }
  if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0) {
    snprintf(why, size, "is all zeros, which no station may use (use one as in "
             "00:00:00:00:00:02)");
    return false;
  }
  memcpy(out, m, 6);
  return true;
}

/* Hex with 0x, or decimal: no octal surprise for a leading 0, no sign, no overflow. */
static bool parse_address(const char *text, uint32_t *out)
{
  const char *p = text;
  int base = 10;
  uint64_t value = 0;

  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  }
  if (*p == '\0')
    return false;
  for (; *p != '\0'; p++) {
    int d = hex_digit(*p);
    if (d < 0 || d >= base)
      return false;
    value = value * (unsigned)base + (unsigned)d;
    if (value > 0xFFFFFFFFu)
      return false;
  }
  *out = (uint32_t)value;
  return true;
}

static bool parse_user_flash(const char *text, uint32_t *out, char *why, size_t size)
{
  uint32_t addr;

  if (!parse_address(text, &addr)) {
    snprintf(why, size, "is not an address (expected hex with 0x, as in 0x08010000, "
             "or decimal)");
    return false;
  }
  int sector = stm32_flash_sector_of(addr);
  if (sector < 0) {
    snprintf(why, size, "is outside the flash (0x%08x to 0x%08x)",
             (unsigned)STM32_FLASH_BASE, (unsigned)(STM32_FLASH_END - 1));
    return false;
  }
  /* Sector 0 holds the bootloader's own vector table: the board boots from it. */
  if (sector == 0) {
    snprintf(why, size, "is in sector 0, which holds the bootloader (expected the start "
             "of sector 1 to 11; sector 1 starts at 0x%08x)",
             (unsigned)stm32_flash_sector_base(1));
    return false;
  }
  if (!stm32_flash_is_sector_start(addr)) {
    snprintf(why, size, "is not the start of a flash sector (sector %d starts at 0x%08x)",
             sector, (unsigned)stm32_flash_sector_base((unsigned)sector));
    return false;
  }
  *out = addr;
  return true;
}

/* The kernel's dev_valid_name(): shorter than IFNAMSIZ, not . or .., no '/', ':' or blank. */
static bool parse_tap(const char *text, char *out, size_t out_size, char *why, size_t size)
{
  size_t len = strlen(text);

  if (len == 0) {
    snprintf(why, size, "is empty (expected a device name, as in iapd0)");
    return false;
  }
  if (len >= out_size) {
    snprintf(why, size, "is longer than %zu characters, the kernel's limit for "
             "interface names", out_size - 1);
    return false;
  }
  if (strcmp(text, ".") == 0 || strcmp(text, "..") == 0 || strpbrk(text, "/: \t\n") != NULL) {
    snprintf(why, size, "is not an interface name (expected no '/', ':' or blanks, "
             "as in iapd0)");
    return false;
  }
  memcpy(out, text, len + 1);
  return true;
}

static bool parse_path(const char *text, char *out, size_t out_size, char *why, size_t size)
{
  size_t len = strlen(text);

  if (len == 0) {
    snprintf(why, size, "is empty (expected a file name)");
    return false;
  }
  if (len >= out_size) {
    snprintf(why, size, "is longer than %zu bytes", out_size - 1);
    return false;
  }
  memcpy(out, text, len + 1);
  return true;
}

/* 1 to 65535, decimal digits only. */
static bool parse_port(const char *text, uint16_t *out)
{
  uint32_t v = 0;
  size_t digits = 0;

  for (const char *p = text; *p != '\0'; p++, digits++) {
    if (*p < '0' || *p > '9' || digits == 5)
      return false;
    v = v * 10 + (uint32_t)(*p - '0');
  }
  if (digits == 0 || v < 1 || v > 65535)
    return false;
  *out = (uint16_t)v;
  return true;
}

/* udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT, as QEMU's hostfwd without its empty-address form: a
 * left-out HOSTADDR is 127.0.0.1, so a forward reaches past this host only when asked to. */
static bool parse_forward(const char *text, struct iapd_forward *out, char *why, size_t size)
{
  char copy[64];
  char *part[5];
  size_t n = 0;
  struct iapd_forward f;

  if (strlen(text) >= sizeof(copy)) {
    snprintf(why, size, "is too long " FORWARD_EXPECTED);
    return false;
  }
  strcpy(copy, text);
  for (char *p = copy, *start = copy;; p++) {
    if (*p != ':' && *p != '\0')
      continue;
    bool last = *p == '\0';
    *p = '\0';
    if (n < 5)
      part[n] = start;
    n++;
    start = p + 1;
    if (last)
      break;
  }
  memset(&f, 0, sizeof(f));
  if (strcmp(part[0], "udp") == 0 || strcmp(part[0], "tcp") == 0) {
    f.udp = part[0][0] == 'u';
  } else {
    snprintf(why, size, "has a bad protocol '%s', not udp or tcp " FORWARD_EXPECTED,
             part[0]);
    return false;
  }
  if (n == 1) {
    snprintf(why, size, "has no host port and no board port " FORWARD_EXPECTED);
    return false;
  }
  if (n == 2) {
    snprintf(why, size, "has no board port " FORWARD_EXPECTED);
    return false;
  }
  if (n > 4) {
    snprintf(why, size, "has too many ':'-separated parts " FORWARD_EXPECTED);
    return false;
  }
  const char *host_port = part[n - 2], *board_port = part[n - 1];
  f.host_addr[0] = 127;
  f.host_addr[3] = 1;
  if (n == 4) {
    struct in_addr a;
    if (part[1][0] == '\0') {
      snprintf(why, size, "has an empty host address " FORWARD_EXPECTED);
      return false;
    }
    if (inet_pton(AF_INET, part[1], &a) != 1) {
      snprintf(why, size, "has a bad host address '%s', not an IPv4 address " FORWARD_EXPECTED,
               part[1]);
      return false;
    }
    memcpy(f.host_addr, &a.s_addr, 4);
  }
  if (!parse_port(host_port, &f.host_port)) {
    snprintf(why, size, "has a bad host port '%s', not a number from 1 to 65535 "
             FORWARD_EXPECTED, host_port);
    return false;
  }
  if (!parse_port(board_port, &f.board_port)) {
    snprintf(why, size, "has a bad board port '%s', not a number from 1 to 65535 "
             FORWARD_EXPECTED, board_port);
    return false;
  }
  *out = f;
  return true;
}

static bool add_forward(const char *text, struct iapd_options *o, char *why, size_t size)
{
  struct iapd_forward f;

  if (!parse_forward(text, &f, why, size))
    return false;
  if (o->forward_count == IAPD_FORWARD_MAX) {
    snprintf(why, size, "is one forward too many (at most %d)", IAPD_FORWARD_MAX);
    return false;
  }
  o->forwards[o->forward_count++] = f;
  return true;
}

static bool parse_bool(const char *text, bool *out, char *why, size_t size)
{
  static const char *const yes[] = { "yes", "true", "1" };
  static const char *const no[] = { "no", "false", "0" };

  for (size_t i = 0; i < 3; i++) {
    if (strcasecmp(text, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(text, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  snprintf(why, size, "is not a boolean (expected yes, no, true, false, 1 or 0)");
  return false;
}

static bool parse_verbosity(const char *text, int *out, char *why, size_t size)
{
  if (text[0] >= '0' && text[0] <= '0' + VERBOSE_MAX && text[1] == '\0') {
    *out = text[0] - '0';
    return true;
  }
  snprintf(why, size, "is not a verbosity level (expected a number from 0 to %d)",
           VERBOSE_MAX);
  return false;
}

static bool parse_control(const char *text, char *out, size_t out_size, char *why,
                          size_t size)
{
  struct control_listen listen;

  if (!control_parse_listen(text, &listen, why, size))
    return false;
  snprintf(out, out_size, "%s", text);
  return true;
}

/* The HTTP user ID or password: printable ASCII of HTTP_USER_MAX / HTTP_PASSWORD_MAX bytes
 * at most; a user ID holds no ':', which ends it in HTTP Basic auth (RFC 7617). */
static bool parse_credential(const char *text, bool password, char *out, size_t out_size,
                             char *why, size_t size)
{
  size_t len = strlen(text);

  if (len == 0 || len >= out_size) {
    snprintf(why, size, "is not 1 to %zu characters", out_size - 1);
    return false;
  }
  for (const char *p = text; *p != '\0'; p++) {
    if (*p < 0x20 || *p > 0x7E) {
      snprintf(why, size, "holds a character that is not printable ASCII");
      return false;
    }
    if (!password && *p == ':') {
      snprintf(why, size, "holds a ':', which HTTP Basic auth cannot carry in a user ID");
      return false;
    }
  }
  memcpy(out, text, len + 1);
  return true;
}

/* One of the n words name(0) ... name(n - 1), each an enum's value's own name (the one the
 * log prints): *value is its place. Any other word is refused with the list: "is not a slot
 * layout (expected single or dual)". */
static bool parse_keyword(const char *text, const char *(*name)(int), int n, const char *what,
                          int *value, char *why, size_t size)
{
  for (int i = 0; i < n; i++) {
    if (strcmp(text, name(i)) == 0) {
      *value = i;
      return true;
    }
  }
  size_t used = (size_t)snprintf(why, size, "is not a %s (expected ", what);
  for (int i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(why + used, size - used, "%s%s", name(i),
                             i + 2 < n ? ", " : i + 2 == n ? " or " : ")");
  return false;
}

static const char *flash_driver_name(int i)
{
  return i == FLASH_DRIVER_STM32 ? "stm32" : "direct";
}

static const char *boot_policy_name(int i)
{
  return iap_verify_str((enum iap_verify)i);
}

static const char *slot_layout_name(int i)
{
  return iap_slots_str((enum iap_slots_mode)i);
}

static const char *flash_timing_name(int i)
{
  return flash_timing_str((enum flash_timing)i);
}

static const char *cut_mode_name(int i)
{
  return flash_cut_mode_str((enum flash_cut_mode)i);
}

/* An option whose value is one of an enum's names, values 0 to last: the field gets it. */
#define PARSE_KEYWORD(field, name, last, what)                                               \
  (parse_keyword(text, name, (int)(last) + 1, what, &word, why, size)                        \
       ? (o->field = word, true)                                                             \
       : false)

/* Decimal digits only, at most max: no sign, no hex, no blanks. */
static bool parse_decimal(const char *text, uint64_t max, uint64_t *out)
{
  uint64_t v = 0;
  if (*text == '\0')
    return false;
  for (const char *p = text; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return false;
    unsigned d = (unsigned)(*p - '0');
    if (v > (max - d) / 10u)
      return false;
    v = v * 10u + d;
  }
  *out = v;
  return true;
}

#define SCALE_MAX 1000.0

/* A plain decimal number, as 0.01, 2 or 1.5: digits with at most one point, no sign, no
 * exponent, nothing after; greater than 0 and at most SCALE_MAX. */
static bool parse_scale(const char *text, double *out, char *why, size_t size)
{
  const char *p = text;
  size_t digits = 0, points = 0;
  for (; *p != '\0'; p++) {
    if (*p >= '0' && *p <= '9')
      digits++;
    else if (*p == '.' && points == 0)
      points++;
    else
      break;
  }
  double v = digits > 0 && *p == '\0' ? strtod(text, NULL) : -1.0;
  if (!(v > 0.0 && v <= SCALE_MAX)) {
    snprintf(why, size, "is not a scale factor (expected a number greater than 0 and at "
             "most 1000, as in 0.01 or 2)");
    return false;
  }
  *out = v;
  return true;
}

static bool parse_op_number(const char *text, uint32_t *out, char *why, size_t size)
{
  uint64_t v;
  if (!parse_decimal(text, UINT32_MAX, &v) || v == 0) {
    snprintf(why, size, "is not a flash operation number (expected 1 to 4294967295: "
             "operations count from 1 at power-on)");
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

static bool parse_seed(const char *text, uint64_t *out, char *why, size_t size)
{
  if (!parse_decimal(text, UINT64_MAX, out)) {
    snprintf(why, size, "is not a seed (expected a number from 0 to "
             "18446744073709551615)");
    return false;
  }
  return true;
}

/* Whole seconds from 1 to one day. */
static bool parse_seconds(const char *text, unsigned *out, char *why, size_t size)
{
  uint32_t v;

  if (text[0] == '0' && text[1] == 'x')
    text = "";  /* decimal only */
  if (!parse_address(text, &v) || v < 1 || v > 86400) {
    snprintf(why, size, "is not a number of seconds from 1 to 86400");
    return false;
  }
  *out = (unsigned)v;
  return true;
}

/* A decimal number from min to max, or false with `refusal` as the reason. */
static bool parse_range(const char *text, unsigned min, unsigned max, const char *refusal,
                        unsigned *out, char *why, size_t size)
{
  uint32_t v;

  if (text[0] == '0' && text[1] == 'x')
    text = "";  /* decimal only */
  if (!parse_address(text, &v) || v < min || v > max) {
    snprintf(why, size, "%s", refusal);
    return false;
  }
  *out = (unsigned)v;
  return true;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* --- applying one setting --------------------------------------------------------------- */

/* An option with an argument, from either source. */
static bool apply_value(struct iapd_options *o, int id, const char *text, char *why,
                        size_t size)
{
  int word;  /* PARSE_KEYWORD's */

  switch (id) {
  case OPT_CONFIG:
    return parse_path(text, o->config_path, sizeof(o->config_path), why, size);
  case OPT_TAP:
    o->tap_given = true;
    return parse_tap(text, o->tap, sizeof(o->tap), why, size);
  case OPT_ATTACH:
    return parse_tap(text, o->attach, sizeof(o->attach), why, size);
  case OPT_CONTROL:
    return parse_control(text, o->control, sizeof(o->control), why, size);
  case OPT_PCAP:
    return parse_path(text, o->pcap_path, sizeof(o->pcap_path), why, size);
  case OPT_HOST_ADDR:
    return parse_host_addr(text, o, why, size);
  case OPT_FLASH:
    return parse_path(text, o->flash_path, sizeof(o->flash_path), why, size);
  case OPT_FLASH_DRIVER:
    return PARSE_KEYWORD(flash_driver, flash_driver_name, FLASH_DRIVER_STM32, "flash driver");
  case OPT_BOOT_VERIFY:
    return PARSE_KEYWORD(boot_verify, boot_policy_name, IAP_VERIFY_SIGNATURE, "boot policy");
  case OPT_SLOTS:
    return PARSE_KEYWORD(slots, slot_layout_name, IAP_SLOTS_SWAP, "slot layout");
  case OPT_SIGNING_KEY:
    return parse_path(text, o->signing_key_path, sizeof(o->signing_key_path), why, size);
  case OPT_FLASH_TIMING:
    return PARSE_KEYWORD(flash_timing, flash_timing_name, FLASH_TIMING_MAX, "flash timing");
  case OPT_FLASH_TIMING_SCALE:
    return parse_scale(text, &o->flash_timing_scale, why, size);
  case OPT_POWER_CUT_AT_OP:
    return parse_op_number(text, &o->power_cut_at_op, why, size);
  case OPT_POWER_CUT_MODE:
    return PARSE_KEYWORD(power_cut_mode, cut_mode_name, FLASH_CUT_CLEAN, "power cut mode");
  case OPT_SEED:
    return parse_seed(text, &o->seed, why, size);
  case OPT_IP:
    return parse_unicast(text, o->ip, why, size);
  case OPT_NETMASK:
    return parse_netmask(text, o->netmask, why, size);
  case OPT_GATEWAY:
    return parse_gateway(text, o->gateway, why, size);
  case OPT_MAC:
    return parse_mac(text, o->mac, why, size);
  case OPT_USER_FLASH:
    return parse_user_flash(text, &o->user_flash, why, size);
  case OPT_HTTP_USER:
    return parse_credential(text, false, o->http_user, sizeof(o->http_user), why, size);
  case OPT_HTTP_PASSWORD:
    return parse_credential(text, true, o->http_password, sizeof(o->http_password), why,
                            size);
  case OPT_HTTP_SESSION_TIMEOUT:
    return parse_seconds(text, &o->http_session_timeout, why, size);
  case OPT_DHCP_TIMEOUT:
    return parse_seconds(text, &o->dhcp_timeout, why, size);
  case OPT_TFTP_MAX_BLKSIZE:
    return parse_range(text, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX,
                       "is not a block size from " STR(TFTP_BLKSIZE_MIN) " to "
                       STR(TFTP_BLKSIZE_MAX) " bytes (" STR(TFTP_BLKSIZE_MIN) " is RFC 2348's "
                       "smallest, " STR(TFTP_BLKSIZE_MAX) " what one Ethernet frame carries)",
                       &o->tftp_max_blksize, why, size);
  case OPT_TFTP_MAX_WINDOWSIZE:
    return parse_range(text, TFTP_WINDOWSIZE_MIN, TFTP_WINDOWSIZE_LIMIT,
                       "is not a number of blocks from " STR(TFTP_WINDOWSIZE_MIN) " to "
                       STR(TFTP_WINDOWSIZE_LIMIT) " (RFC 7440)",
                       &o->tftp_max_windowsize, why, size);
  case OPT_FORWARD:
    return add_forward(text, o, why, size);
  default:
    snprintf(why, size, "is not expected: the option takes no value");
    return false;
  }
}

/* A flag; on is what its configuration key says (tftp = yes is the opposite of --no-tftp). */
static void apply_flag(struct iapd_options *o, int id, bool on)
{
  switch (id) {
  case OPT_FOREGROUND:
    o->foreground = on;
    break;
  case OPT_KEY:
    o->key = on;
    break;
  case OPT_EXIT_ON_JUMP:
    o->exit_on_jump = on;
    break;
  case OPT_NO_TFTP:
    o->tftp = on;
    break;
  case OPT_NO_HTTP:
    o->http = on;
    break;
  case OPT_DHCP:
    o->dhcp = on;
    break;
  case OPT_USER_NET:
    o->user_net = on;
    break;
  default:
    break;
  }
}

/* Values are shown as typed; quoted when they would otherwise be invisible or ambiguous. */
static void print_value(FILE *f, const char *text)
{
  if (text[0] == '\0' || strpbrk(text, " \t") != NULL)
    fprintf(f, "'%s'", text);
  else
    fputs(text, f);
}

/* --- the configuration file ------------------------------------------------------------- */

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t len = strlen(s);
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                     s[len - 1] == '\n'))
    s[--len] = '\0';
  return s;
}

static void print_known_keys(FILE *err)
{
  const char *sep = "";

  fputs(" (known keys:", err);
  for (size_t i = 0; i < SPEC_COUNT; i++) {
    if (specs[i].key != NULL) {
      fprintf(err, "%s %s", sep, specs[i].key);
      sep = ",";
    }
  }
  fputs(")", err);
}

/* One "key = value" line; false after printing what is wrong with it. */
static bool config_line(struct iapd_options *o, char *line, const char *path,
                        unsigned lineno, FILE *err)
{
  char why[WHY_SIZE];
  char *eq = strchr(line, '=');

  if (eq == NULL) {
    fprintf(err, "%s:%u: expected 'key = value', found '%s'\n", path, lineno, line);
    return false;
  }
  *eq = '\0';
  char *key = trim(line);
  char *value = trim(eq + 1);
  if (key[0] == '\0') {
    fprintf(err, "%s:%u: expected 'key = value', found no key before '='\n", path, lineno);
    return false;
  }
  for (char *p = key; *p != '\0'; p++) /* user_flash is taken for user-flash */
    if (*p == '_')
      *p = '-';

  const struct option_spec *spec = NULL;
  for (size_t i = 0; i < SPEC_COUNT && spec == NULL; i++)
    if (specs[i].key != NULL && strcmp(specs[i].key, key) == 0)
      spec = &specs[i];
  if (spec == NULL) {
    fprintf(err, "%s:%u: unknown key '%s'", path, lineno, key);
    if (strcmp(key, "config") == 0 || strcmp(key, "help") == 0 ||
        strcmp(key, "version") == 0)
      fprintf(err, " (--%s exists on the command line only)", key);
    else if (strcmp(key, "no-tftp") == 0)
      fputs(" (write 'tftp = no')", err);
    else if (strcmp(key, "no-http") == 0)
      fputs(" (write 'http = no')", err);
    else
      print_known_keys(err);
    fputc('\n', err);
    return false;
  }

  bool ok, on = false;
  if (spec->arg != NULL) {
    ok = apply_value(o, spec->id, value, why, sizeof(why));
  } else if (spec->id == OPT_VERBOSE) {
    ok = parse_verbosity(value, &o->verbose, why, sizeof(why));
  } else {
    ok = parse_bool(value, &on, why, sizeof(why));
    if (ok)
      apply_flag(o, spec->id, on);
  }
  if (!ok) {
    fprintf(err, "%s:%u: bad value for %s: ", path, lineno, spec->key);
    print_value(err, value);
    fprintf(err, " %s\n", why);
  }
  return ok;
}

/* Reads every line and reports every bad one before giving up, as a compiler does. */
static bool config_load(struct iapd_options *o, const char *path, bool must_exist, FILE *err)
{
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    if (errno == ENOENT && !must_exist)
      return true;
    fprintf(err, "iapd: cannot open configuration file %s: %s%s\n", path, strerror(errno),
            must_exist ? " (check the --config argument)" : "");
    return false;
  }

  bool ok = true;
  char *line = NULL;
  size_t cap = 0;
  unsigned lineno = 0;
  while (getline(&line, &cap, f) >= 0) {
    lineno++;
    /* A '#' starts a comment at the start of a line or after a blank. */
    for (char *p = line; *p != '\0'; p++) {
      if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
        *p = '\0';
        break;
      }
    }
    char *text = trim(line);
    if (text[0] == '\0')
      continue;
    if (!config_line(o, text, path, lineno, err))
      ok = false;
  }
  if (ferror(f)) {
    fprintf(err, "iapd: cannot read configuration file %s: %s\n", path, strerror(errno));
    ok = false;
  }
  free(line);
  fclose(f);
  return ok;
}

/* --- the command line ------------------------------------------------------------------- */

static void print_help(FILE *out)
{
  fputs("Usage: iapd [OPTION]...\n"
        "Emulate an STM32F407 evaluation board running the Ethernet IAP bootloader:\n"
        "flash in a file, network on a TAP device (or user-mode networking), TFTP and\n"
        "HTTP uploads into the user flash.\n"
        "\n", out);
  for (size_t i = 0; i < SPEC_COUNT; i++) {
    const struct option_spec *s = &specs[i];
    char left[64];
    int n;

    if (s->id < 256)
      n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", s->id, s->name,
                   s->arg ? " " : "", s->arg ? s->arg : "");
    else
      n = snprintf(left, sizeof(left), "      --%s%s%s", s->name, s->arg ? " " : "",
                   s->arg ? s->arg : "");
    fputs(left, out);
    /* The text starts in column 27, or on the next line after a long option. */
    int column = n;
    if (column > 25) {
      fputc('\n', out);
      column = 0;
    }
    for (const char *p = s->help; *p != '\0'; column = 0) {
      const char *end = strchr(p, '\n');
      size_t len = end ? (size_t)(end - p) : strlen(p);
      fprintf(out, "%*s%.*s\n", 27 - column, "", (int)len, p);
      p += len;
      if (*p == '\n')
        p++;
    }
  }
  fputs("\n"
        "Every option but config, help and version is also a key of the configuration\n"
        "file (key = value; flags take yes or no; tftp = no for no-tftp, http = no for\n"
        "no-http; verbose = N).\n"
        "The command line wins over the file; forward may be given more than once, and\n"
        "forwards on the command line replace those of the file.\n"
        "Signals: SIGUSR1 resets with the Key held, SIGUSR2 without; SIGTERM exits;\n"
        "SIGHUP reopens the --pcap file.\n"
        "Exit status: 0 normal, 1 runtime error, 2 invalid option or configuration,\n"
        "3 power cut (--power-cut-at-op).\n"
        "See iapd(8) and iapd.conf(5).\n", out);
}

static void print_version(FILE *out)
{
  fprintf(out, "iapd %s\nlwIP %s\n", PACKAGE_VERSION, LWIP_VERSION_STRING);
}

/* What getopt_long found that it could not take, in words that say what to fix. */
static void print_getopt_error(int c, int optopt_value, const char *arg, FILE *err)
{
  const struct option_spec *spec = spec_by_id(optopt_value);

  if (c == ':') {
    if (spec != NULL && spec->id < 256 && arg != NULL && arg[1] != '-')
      fprintf(err, "iapd: -%c needs a value: -%c %s\n", spec->id, spec->id, spec->arg);
    else if (spec != NULL)
      fprintf(err, "iapd: --%s needs a value: --%s %s\n", spec->name, spec->name, spec->arg);
    else
      fprintf(err, "iapd: option %s needs a value\n", arg ? arg : "");
  } else if (spec != NULL) {
    /* getopt_long reports "--key=value" for an option that takes no value this way. */
    fprintf(err, "iapd: --%s takes no value\n", spec->name);
  } else if (optopt_value != 0) {
    fprintf(err, "iapd: unknown option -%c (see iapd --help)\n", optopt_value);
  } else {
    fprintf(err, "iapd: unknown or ambiguous option %s (see iapd --help)\n", arg ? arg : "");
  }
}

struct cli_setting {
  int id;
  const char *value; /* points into argv */
};

/* Reads argv once: --help and --version answer at once, every value is checked, and the
 * settings are kept in order so they can be applied after the configuration file. */
static enum options_status cli_collect(int argc, char **argv, struct cli_setting **list,
                                       size_t *count, const char **config_path, FILE *out,
                                       FILE *err)
{
  size_t capacity = 0;
  struct option longopts[SPEC_COUNT + 1];
  char shortopts[2 * SPEC_COUNT + 2];
  size_t ns = 0;
  struct iapd_options scratch;
  char why[WHY_SIZE];

  shortopts[ns++] = ':'; /* report a missing value as ':' rather than '?' */
  for (size_t i = 0; i < SPEC_COUNT; i++) {
    longopts[i] = (struct option){ specs[i].name,
                                   specs[i].arg ? required_argument : no_argument, NULL,
                                   specs[i].id };
    if (specs[i].id < 256) {
      shortopts[ns++] = (char)specs[i].id;
      if (specs[i].arg)
        shortopts[ns++] = ':';
    }
  }
  longopts[SPEC_COUNT] = (struct option){ NULL, 0, NULL, 0 };
  shortopts[ns] = '\0';

  options_defaults(&scratch);
  *count = 0;
  optind = 0; /* glibc: 0 re-initialises getopt completely, so options_parse can rerun */
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == -1)
      break;
    if (c == '?' || c == ':') {
      print_getopt_error(c, optopt, optind > 0 && optind <= argc ? argv[optind - 1] : NULL,
                         err);
      return OPTIONS_ERROR;
    }
    if (c == OPT_HELP) {
      print_help(out);
      return OPTIONS_EXIT;
    }
    if (c == OPT_VERSION) {
      print_version(out);
      return OPTIONS_EXIT;
    }
    const struct option_spec *spec = spec_by_id(c);
    if (spec->arg != NULL && !apply_value(&scratch, c, optarg, why, sizeof(why))) {
      fprintf(err, "iapd: --%s ", spec->name);
      print_value(err, optarg);
      fprintf(err, " %s\n", why);
      return OPTIONS_ERROR;
    }
    if (c == OPT_CONFIG)
      *config_path = optarg;
    /* One argument can hold several settings (-vvv): grow as needed. */
    if (*count == capacity) {
      size_t bigger = capacity ? 2 * capacity : 16;
      struct cli_setting *grown = realloc(*list, bigger * sizeof(**list));
      if (grown == NULL) {
        fprintf(err, "iapd: out of memory reading the command line\n");
        return OPTIONS_ERROR;
      }
      *list = grown;
      capacity = bigger;
    }
    (*list)[(*count)++] = (struct cli_setting){ c, optarg };
  }
  if (optind < argc) {
    fprintf(err, "iapd: unexpected argument '%s' (iapd takes options only; see iapd --help)\n",
            argv[optind]);
    return OPTIONS_ERROR;
  }
  return OPTIONS_OK;
}

static unsigned prefix_length(const uint8_t netmask[4])
{
  unsigned bits = 0;
  for (uint32_t m = ipv4_to_u32(netmask); m & 0x80000000u; m <<= 1)
    bits++;
  return bits;
}

/* Two forwards cannot share a host port of one protocol on one address (0.0.0.0 is all). */
static bool check_forwards(const struct iapd_options *o, FILE *err)
{
  for (unsigned i = 0; i < o->forward_count; i++) {
    for (unsigned j = 0; j < i; j++) {
      const struct iapd_forward *a = &o->forwards[j], *b = &o->forwards[i];
      uint32_t aa = ipv4_to_u32(a->host_addr), ba = ipv4_to_u32(b->host_addr);
      if (a->udp == b->udp && a->host_port == b->host_port &&
          (aa == ba || aa == 0 || ba == 0)) {
        char at[40], bt[40];
        options_forward_text(a, at, sizeof(at));
        options_forward_text(b, bt, sizeof(bt));
        fprintf(err, "iapd: forward %s and forward %s both take host port %u/%s\n", at, bt,
                a->host_port, a->udp ? "udp" : "tcp");
        return false;
      }
    }
  }
  return true;
}

/* --user-net: slirp plays the host on the board's own network, at the gateway's address. */
static bool check_user_net(const struct iapd_options *o, FILE *err)
{
  char gw[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
  uint32_t mask = ipv4_to_u32(o->netmask);
  uint8_t network[4];
  unsigned prefix = prefix_length(o->netmask);

  if (o->tap_given) {
    fprintf(err, "iapd: user-net and tap %s both set: the board has one Ethernet port; use "
            "user-net without privileges, tap for a TAP device\n", o->tap);
    return false;
  }
  if (o->attach[0] != '\0') {
    fprintf(err, "iapd: user-net and attach %s both set: the board has one Ethernet port; use "
            "user-net without privileges, attach for an existing interface\n", o->attach);
    return false;
  }
  if (o->host_addr_mode != HOST_ADDR_DEFAULT) {
    fprintf(err, "iapd: host-addr applies to a TAP device, not to user-net: there the host "
            "is slirp, at the board's gateway address (gateway)\n");
    return false;
  }
  inet_ntop(AF_INET, o->gateway, gw, sizeof(gw));
  for (int i = 0; i < 4; i++)
    network[i] = o->ip[i] & o->netmask[i];
  inet_ntop(AF_INET, network, net, sizeof(net));
  if (ipv4_to_u32(o->gateway) == 0) {
    fprintf(err, "iapd: user-net needs a gateway: slirp, the host on the board's network, "
            "takes its address (give one on %s/%u, as in gateway = %u.%u.%u.1)\n", net, prefix,
            network[0], network[1], network[2]);
    return false;
  }
  if ((ipv4_to_u32(o->gateway) & mask) != (ipv4_to_u32(o->ip) & mask)) {
    fprintf(err, "iapd: with user-net the gateway %s must be on the board's network %s/%u: "
            "slirp, the host there, takes the gateway's address\n", gw, net, prefix);
    return false;
  }
  /* slirp's DHCP server leases 16 addresses from host number 15 of the network. */
  if (o->dhcp && prefix > 27) {
    fprintf(err, "iapd: dhcp with user-net needs a board network of 32 addresses or more "
            "(netmask 255.255.255.224 or shorter, not /%u): slirp's DHCP server leases 16 "
            "addresses from host number 15 of the network\n", prefix);
    return false;
  }
  return check_forwards(o, err);
}

/* Settings that are each fine but clash with one another. */
static bool check_combination(const struct iapd_options *o, FILE *err)
{
  char ip[INET_ADDRSTRLEN];

  inet_ntop(AF_INET, o->ip, ip, sizeof(ip));
  if (memcmp(o->ip, o->gateway, 4) == 0) {
    fprintf(err, "iapd: the gateway %s is the board's own address (ip); use the host's "
            "address, or 0.0.0.0 for none\n", ip);
    return false;
  }
  if (o->user_net)
    return check_user_net(o, err);
  if (o->forward_count > 0) {
    char text[40];
    options_forward_text(&o->forwards[0], text, sizeof(text));
    fprintf(err, "iapd: forward %s needs user-net: on a TAP or an attached interface the "
            "host reaches the board at the board's own address\n", text);
    return false;
  }
  if (o->host_addr_mode != HOST_ADDR_NONE && memcmp(o->ip, o->host_addr, 4) == 0) {
    fprintf(err, "iapd: the board address (ip) %s is also the host side address of the "
            "TAP (host-addr%s); give them different addresses, or use host-addr none\n", ip,
            o->host_addr_mode == HOST_ADDR_DEFAULT ? ", by default" : "");
    return false;
  }
  if (o->attach[0] != '\0' && o->tap_given) {
    fprintf(err, "iapd: tap %s and attach %s both set: the board has one Ethernet port; "
            "use tap for a TAP device iapd creates, attach for an existing interface\n",
            o->tap, o->attach);
    return false;
  }
  if (o->attach[0] != '\0' && o->host_addr_mode == HOST_ADDR_SET) {
    fprintf(err, "iapd: host-addr applies to the TAP device, not to an interface given with "
            "attach (%s); give the host's address to the peer of %s yourself\n", o->attach,
            o->attach);
    return false;
  }
  return true;
}

/* Slots and boot policy against the flash and the key. */
static bool check_policy(const struct iapd_options *o, FILE *err)
{
  if (o->slots == IAP_SLOTS_DUAL
      && stm32_flash_sector_of(o->user_flash) == (int)STM32_FLASH_SECTOR_COUNT - 1) {
    fprintf(err, "iapd: slots dual needs two sectors of user flash or more; user-flash "
            "0x%08x leaves one\n", (unsigned)o->user_flash);
    return false;
  }
  if (o->slots == IAP_SLOTS_SWAP) {
    struct iap_layout l;
    struct image_area user = { o->user_flash, USER_FLASH_END_ADDRESS };
    char why[200];
    if (!iap_swap_layout(&l, &user, why, sizeof(why))) {
      fprintf(err, "iapd: %s\n", why);
      return false;
    }
  }
  if (o->boot_verify == IAP_VERIFY_SIGNATURE && o->signing_key_path[0] == '\0') {
    fprintf(err, "iapd: boot-verify signature needs signing-key FILE, the public key the "
            "images are signed with (iapd-image keygen writes one)\n");
    return false;
  }
  return true;
}

/* The signing key is read at start-up: a file that is not a key stops iapd here. */
static bool load_signing_key(struct iapd_options *o, FILE *err)
{
  char why[IAPD_PATH_MAX + 160];

  o->have_signing_key = false;
  if (o->signing_key_path[0] == '\0')
    return true;
  if (!signing_key_load(o->signing_key_path, &o->signing_key, why, sizeof(why))) {
    fprintf(err, "iapd: %s\n", why);
    return false;
  }
  o->have_signing_key = true;
  return true;
}

/* --user-net without --forward: the two IAP services on 127.0.0.1, on ports a user may
 * bind (TFTP's 69 and HTTP's 80 need root on the host side). */
static void default_forwards(struct iapd_options *o)
{
  static const struct iapd_forward tftp = { true, { 127, 0, 0, 1 }, 6969, 69 };
  static const struct iapd_forward http = { false, { 127, 0, 0, 1 }, 8080, 80 };

  if (!o->user_net || o->forward_count > 0)
    return;
  if (o->tftp)
    o->forwards[o->forward_count++] = tftp;
  if (o->http)
    o->forwards[o->forward_count++] = http;
}

enum options_status options_parse(struct iapd_options *o, int argc, char **argv, FILE *out,
                                  FILE *err)
{
  struct cli_setting *list = NULL;
  const char *config_path = NULL;
  size_t count = 0;

  options_defaults(o);
  enum options_status status = cli_collect(argc, argv, &list, &count, &config_path, out, err);
  if (status != OPTIONS_OK)
    goto done;

  if (!config_load(o, config_path ? config_path : DEFAULT_CONFIG_PATH, config_path != NULL,
                   err)) {
    status = OPTIONS_ERROR;
    goto done;
  }

  /* Command line last, so it wins; the values were checked by cli_collect. -v counts on
   * the command line and replaces the file's verbose setting. */
  int verbose = 0;
  char why[WHY_SIZE];
  /* The board has one port: tap, attach or user-net on the command line replaces the file's
   * choice. Forwards on the command line replace the file's list. */
  for (size_t i = 0; i < count; i++) {
    if (list[i].id == OPT_ATTACH) {
      o->tap_given = false;
      o->user_net = false;
    } else if (list[i].id == OPT_TAP) {
      o->attach[0] = '\0';
      o->user_net = false;
    } else if (list[i].id == OPT_USER_NET) {
      o->tap_given = false;
      o->attach[0] = '\0';
    }
  }
  for (size_t i = 0; i < count; i++)
    if (list[i].id == OPT_FORWARD)
      o->forward_count = 0;
  for (size_t i = 0; i < count; i++) {
    const struct option_spec *spec = spec_by_id(list[i].id);
    if (spec->arg != NULL)
      (void)apply_value(o, spec->id, list[i].value, why, sizeof(why));
    else if (spec->id == OPT_VERBOSE)
      verbose++;
    else
      apply_flag(o, spec->id, spec->id != OPT_NO_TFTP && spec->id != OPT_NO_HTTP);
  }
  if (verbose > 0)
    o->verbose = verbose;

  if (!check_combination(o, err) || !check_policy(o, err) || !load_signing_key(o, err))
    status = OPTIONS_ERROR;
  else
    default_forwards(o);
done:
  free(list);
  return status;
}
