/*
 * The bootloader flow (src/bootloader.c) on a fake board: Key, jump and system reset are
 * recorded, the netif is lwIP's with its frames captured, the clock is the test's, and a fake
 * host on the wire (192.168.0.1) answers ARP, plays DHCP server when asked, and talks TFTP.
 * The flash is the emulated chip. Every test checks the log lines the board prints (the
 * firmware prints the same) and what the board did.
 *
 * lwIP is one per process: each test runs in its own (Check's default fork mode).
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bootloader.h"
#include "http_server.h"
#include "log.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "stm32f407.h"
#include "testlib.h"
#include "tftp_server.h"

/* ---- the clock and the log (the seams src/ and lwIP call by name) ---------------------- */

static uint32_t now_ms = 1000;

u32_t sys_now(void)
{
  return now_ms;
}

#define LOG_MAX 8192
static char log_text[LOG_MAX];   /* every line, "module: text\n" as iapd prints them */

void iap_log(enum iap_log_level level, const char *module, const char *fmt, ...)
{
  static const char *const prefix[] = { "error: ", "warning: ", "", "" };
  char line[512];
  va_list ap;
  size_t used = strlen(log_text);

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  snprintf(log_text + used, sizeof(log_text) - used, "%s: %s%s\n", module, prefix[level],
           line);
}

#define assert_logged(line) tl_assert_contains(log_text, line "\n")

static void assert_not_logged(const char *text)
{
  ck_assert_msg(strstr(log_text, text) == NULL, "\"%s\" logged:\n%s", text, log_text);
}

/* ---- the fake host on the board's wire ------------------------------------------------ */

#define FRAME_MAX 1514
#define HOST_IP   0xC0A80001u        /* 192.168.0.1 */
#define BOARD_IP  0xC0A8000Au        /* 192.168.0.10, the static address */
#define LEASE_IP  0xC0A80032u        /* 192.168.0.50, what the DHCP server offers */
static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t board_mac[6] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t broadcast_mac[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

struct udp_seen {
  uint32_t src_ip;
  uint16_t src_port, dst_port;
  uint8_t data[FRAME_MAX];
  size_t len;
};

static struct {
  bool dhcp_server;          /* answer DISCOVER and REQUEST */
  unsigned discovers, requests;
  struct udp_seen tftp[16];  /* UDP the board sent to the host's TFTP port */
  unsigned ntftp;
  struct {
    uint16_t dst_port;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
  } http[8];                 /* TCP segments from the board's port 80 */
  unsigned nhttp;
} lan;

static struct netif fake_netif;
static bool netif_added;

/* Frames on their way to the board: they arrive in the next main-loop turn, never inside
 * the lwIP call that sent what they answer. */
static struct {
  uint8_t frame[FRAME_MAX];
  size_t len;
} wire[16];
static unsigned wire_count;

static void put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The host's frame onto the wire. */
static void deliver(const uint8_t *frame, size_t len)
{
  ck_assert_uint_lt(wire_count, 16);
  memcpy(wire[wire_count].frame, frame, len);
  wire[wire_count++].len = len;
}

/* The frames on the wire into the board's netif, as the MAC hands them over. */
static void receive_frames(void)
{
  for (unsigned i = 0; i < wire_count; i++) {
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)wire[i].len, PBUF_POOL);
    ck_assert_ptr_nonnull(p);
    pbuf_take(p, wire[i].frame, (u16_t)wire[i].len);
    if (fake_netif.input(p, &fake_netif) != ERR_OK)
      pbuf_free(p);
  }
  wire_count = 0;
}

/* Ones' complement sum of n bytes (n even), folded. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i += 2)
    sum += get16(p + i);
  while (sum >> 16)
    sum = (sum & 0xFFFFu) + (sum >> 16);
  return sum;
}

/* The Ethernet and IPv4 headers of a frame from the host carrying `len` bytes of protocol
 * `proto`; returns where those bytes go. */
static uint8_t *ipv4_frame(uint8_t *f, const uint8_t dst_mac[6], uint32_t src_ip,
                           uint32_t dst_ip, uint8_t proto, size_t len)
{
  uint8_t *ip = f + 14;

  memcpy(f, dst_mac, 6);
  memcpy(f + 6, host_mac, 6);
  put16(f + 12, 0x0800);
  memset(ip, 0, 20);
  ip[0] = 0x45;
  put16(ip + 2, (uint16_t)(20 + len));
  ip[8] = 64;
  ip[9] = proto;
  put32(ip + 12, src_ip);
  put32(ip + 16, dst_ip);
  put16(ip + 10, (uint16_t)~sum16(0, ip, 20));
  return ip + 20;
}

/* Ethernet + IPv4 + UDP (checksum 0: none, allowed over IPv4) around payload. */
static void send_udp(const uint8_t dst_mac[6], uint32_t src_ip, uint32_t dst_ip,
                     uint16_t sport, uint16_t dport, const void *payload, size_t len)
{
  uint8_t f[FRAME_MAX];

  ck_assert_uint_le(len, sizeof(f) - 42);
  uint8_t *udp = ipv4_frame(f, dst_mac, src_ip, dst_ip, 17, 8 + len);
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, (uint16_t)(8 + len));
  put16(udp + 6, 0);
  memcpy(udp + 8, payload, len);
  deliver(f, 42 + len);
}

/* A TCP segment from the host's port sport to the board's port 80: window 64240, no options. */
static void send_tcp(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
  uint8_t f[FRAME_MAX] = { 0 }, pseudo[12];
  size_t len = data != NULL ? strlen(data) : 0;

  ck_assert_uint_le(len, sizeof(f) - 54);
  uint8_t *tcp = ipv4_frame(f, board_mac, HOST_IP, BOARD_IP, 6, 20 + len);
  put16(tcp, sport);
  put16(tcp + 2, 80);
  put32(tcp + 4, seq);
  put32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  put16(tcp + 14, 64240);
  if (len > 0)
    memcpy(tcp + 20, data, len);  /* f is zeroed: an odd length's pad byte is 0 */
  memcpy(pseudo, f + 14 + 12, 8);
  pseudo[8] = 0;
  pseudo[9] = 6;
  put16(pseudo + 10, (uint16_t)(20 + len));
  put16(tcp + 16, (uint16_t)~sum16(sum16(0, pseudo, 12), tcp, 20 + len + len % 2));
  deliver(f, 54 + len);
}

static void send_syn(uint16_t sport, uint32_t seq)
{
  send_tcp(sport, seq, 0, 0x02, NULL);
}

/* A DHCP reply (RFC 2131) of `type` (2 OFFER, 5 ACK) for the request in `req`. */
static void dhcp_reply(const uint8_t *req, uint8_t type)
{
  uint8_t m[300] = { 0 };
  uint8_t *o = m + 240;

  m[0] = 2;                      /* BOOTREPLY */
  m[1] = 1;
  m[2] = 6;
  memcpy(m + 4, req + 4, 4);     /* xid */
  put32(m + 16, LEASE_IP);       /* yiaddr */
  memcpy(m + 28, req + 28, 16);  /* chaddr */
  put32(m + 236, 0x63825363u);
  *o++ = 53; *o++ = 1; *o++ = type;
  *o++ = 54; *o++ = 4; put32(o, HOST_IP); o += 4;
  *o++ = 51; *o++ = 4; put32(o, 600); o += 4;
  *o++ = 1; *o++ = 4; put32(o, 0xFFFFFF00u); o += 4;
  *o++ = 3; *o++ = 4; put32(o, HOST_IP); o += 4;
  *o = 255;
  send_udp(broadcast_mac, HOST_IP, 0xFFFFFFFFu, 67, 68, m, sizeof(m));
}

static uint8_t dhcp_message_type(const uint8_t *m, size_t len)
{
  for (size_t i = 240; i + 2 < len && m[i] != 255;) {
    if (m[i] == 0) {
      i++;
      continue;
    }
    if (m[i] == 53)
      return m[i + 2];
    i += 2u + m[i + 1];
  }
  return 0;
}

/* A frame the board sent: the host answers what a host would. */
static void host_receive(const uint8_t *f, size_t len)
{
  if (len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 1
      && get32(f + 38) == HOST_IP) {
    uint8_t r[42];
    memcpy(r, f + 6, 6);
    memcpy(r + 6, host_mac, 6);
    put16(r + 12, 0x0806);
    memcpy(r + 14, f + 14, 6);   /* Ethernet/IPv4, lengths */
    put16(r + 20, 2);            /* reply */
    memcpy(r + 22, host_mac, 6);
    put32(r + 28, HOST_IP);
    memcpy(r + 32, f + 22, 10);  /* the asker's MAC and IP */
    deliver(r, sizeof(r));
    return;
  }
  if (len >= 54 && get16(f + 12) == 0x0800 && f[23] == 6) {
    const uint8_t *tcp = f + 14 + (f[14] & 15) * 4;
    if (get16(tcp) == 80 && lan.nhttp < 8) {
      lan.http[lan.nhttp].dst_port = get16(tcp + 2);
      lan.http[lan.nhttp].seq = get32(tcp + 4);
      lan.http[lan.nhttp].ack = get32(tcp + 8);
      lan.http[lan.nhttp].flags = tcp[13];
      lan.http[lan.nhttp++].window = get16(tcp + 14);
    }
    return;
  }
  if (len < 42 || get16(f + 12) != 0x0800 || f[23] != 17)
    return;
  const uint8_t *ip = f + 14, *udp = ip + (ip[0] & 15) * 4, *data = udp + 8;
  size_t dlen = get16(udp + 4) - 8u;
  if (get16(udp + 2) == 67 && lan.dhcp_server) {
    uint8_t type = dhcp_message_type(data, dlen);
    if (type == 1) {
      lan.discovers++;
      dhcp_reply(data, 2);
    } else if (type == 3) {
      lan.requests++;
      dhcp_reply(data, 5);
    }
  } else if (get16(udp + 2) == 40000 && lan.ntftp < 16) {
    struct udp_seen *u = &lan.tftp[lan.ntftp++];
    u->src_ip = get32(ip + 12);
    u->src_port = get16(udp);
    u->dst_port = get16(udp + 2);
    u->len = dlen;
    memcpy(u->data, data, dlen);
  }
}

static err_t fake_linkoutput(struct netif *netif, struct pbuf *p)
{
  uint8_t f[FRAME_MAX];
  (void)netif;
  ck_assert_uint_le(p->tot_len, sizeof(f));
  pbuf_copy_partial(p, f, p->tot_len, 0);
  host_receive(f, p->tot_len);
  return ERR_OK;
}

static err_t fake_netif_init(struct netif *netif)
{
  netif->name[0] = 'f';
  netif->name[1] = 'k';
  netif->output = etharp_output;
  netif->linkoutput = fake_linkoutput;
  netif->mtu = 1500;
  netif->hwaddr_len = 6;
  memcpy(netif->hwaddr, board_mac, 6);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

/* ---- the fake board -------------------------------------------------------------------- */

static struct tl_flash flash;
static struct bootloader bl;
static struct {
  bool key;
  uint32_t random;  /* when not 0: what the board's RNG gives, every word */
  unsigned jumps, system_resets, netif_starts;
  uint32_t msp, pc;
} board_seen;

static bool fake_key_pressed(void *ctx)
{
  (void)ctx;
  return board_seen.key;
}

static void fake_jump(void *ctx, uint32_t msp, uint32_t pc)
{
  (void)ctx;
  board_seen.jumps++;
  board_seen.msp = msp;
  board_seen.pc = pc;
}

/* As the emulator does: the chip resets, the bootloader runs from its reset vector. */
static void fake_system_reset(void *ctx)
{
  (void)ctx;
  board_seen.system_resets++;
  bootloader_reset(&bl);
}

static struct netif *fake_netif_start(void *ctx)
{
  (void)ctx;
  board_seen.netif_starts++;
  if (!netif_added) {
    ck_assert_ptr_nonnull(netif_add(&fake_netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4,
                                    NULL, fake_netif_init, ethernet_input));
    netif_set_link_up(&fake_netif);
    netif_added = true;
  }
  return &fake_netif;
}

static bool fake_random(void *ctx, void *buf, size_t len)
{
  if (board_seen.random == 0)
    return tl_board_random(ctx, buf, len);
  for (size_t i = 0; i < len; i++)
    ((uint8_t *)buf)[i] = (uint8_t)(board_seen.random >> (8 * (i % 4)));
  return true;
}

static const struct board_ops fake_board_ops = {
  .key_pressed = fake_key_pressed,
  .jump = fake_jump,
  .system_reset = fake_system_reset,
  .netif_start = fake_netif_start,
  .random = fake_random,
};
static const struct board fake_board = { &fake_board_ops, NULL };

static struct bootloader_config config(bool dhcp)
{
  struct bootloader_config cfg = {
    .area = { TL_USER_BASE, TL_USER_END },
    .tftp = true,
    .http = true,
    .dhcp = dhcp,
    .dhcp_timeout_ms = 3000,
    .http_user = "user",
    .http_password = "stm32",
  };
  IP4_ADDR(&cfg.ip, 192, 168, 0, 10);
  IP4_ADDR(&cfg.netmask, 255, 255, 255, 0);
  IP4_ADDR(&cfg.gateway, 192, 168, 0, 1);
  return cfg;
}

static void start(bool dhcp)
{
  struct bootloader_config cfg = config(dhcp);
  bootloader_init(&bl, &cfg, &fake_board, flash.dev);
  bootloader_reset(&bl);
}

/* The main loop for ms milliseconds, in 10 ms turns. */
static void run_for(uint32_t ms)
{
  for (uint32_t t = 0; t < ms; t += 10) {
    now_ms += 10;
    while (wire_count > 0)
      receive_frames();   /* what they answer may go out and be answered too */
    sys_check_timeouts();
    bootloader_poll(&bl);
  }
}

/* A valid application at the user flash: its vector table and a body. */
static void install_app(uint32_t sp, uint32_t reset)
{
  uint8_t *img = tl_image(4096, sp, reset, 7);
  ck_assert_int_eq(flash_erase_sector(flash.dev, 4), FLASH_OK);
  ck_assert_int_eq(flash_program(flash.dev, TL_USER_BASE, img, 4096), FLASH_OK);
  free(img);
}

static void setup(void)
{
  memset(log_text, 0, sizeof(log_text));
  memset(&lan, 0, sizeof(lan));
  wire_count = 0;
  memset(&board_seen, 0, sizeof(board_seen));
  tl_flash_open(&flash);
}

static void teardown(void)
{
  tl_flash_close(&flash);
}

/* ---- the reset decision ---------------------------------------------------------------- */

START_TEST(test_key_held_iap_mode)
{
  install_app(TL_SP, TL_USER_BASE + 0x1C9u);
  board_seen.key = true;
  start(false);
  ck_assert_int_eq(bl.state, BOOTLOADER_IAP_MODE);
  ck_assert_int_eq(bl.decision.reason, BOOT_REASON_KEY);
  ck_assert_uint_eq(board_seen.jumps, 0);
  ck_assert_uint_eq(board_seen.netif_starts, 1);
  ck_assert_str_eq(log_text,
                   "boot: IAP mode (Key button held)\n"
                   "http: server ready on 192.168.0.10 port 80\n"
                   "tftp: server ready on 192.168.0.10 port 69\n");
  ck_assert(netif_is_up(&fake_netif));
  ck_assert_ptr_nonnull(http_server_app());
  ck_assert_ptr_nonnull(tftp_server_core());
}
END_TEST

START_TEST(test_no_application_iap_mode)
{
  start(false);
  ck_assert_int_eq(bl.state, BOOTLOADER_IAP_MODE);
  ck_assert_int_eq(bl.decision.reason, BOOT_REASON_NO_APP);
  ck_assert_uint_eq(board_seen.jumps, 0);
  ck_assert_str_eq(log_text,
                   "boot: IAP mode (no application)\n"
                   "http: server ready on 192.168.0.10 port 80\n"
                   "tftp: server ready on 192.168.0.10 port 69\n");
}
END_TEST

START_TEST(test_invalid_application_iap_mode)
{
  install_app(TL_SP, 0x080001C9u);  /* linked for the bootloader's own address */
  start(false);
  ck_assert_int_eq(bl.decision.reason, BOOT_REASON_INVALID_APP);
  ck_assert_uint_eq(board_seen.jumps, 0);
  assert_logged("boot: warning: cannot start the application: image linked for 0x08000000, "
                "expected 0x08010000 (reset vector 0x080001c9 is outside the user flash "
                "0x08010000-0x080fffff)");
  assert_logged("boot: IAP mode (invalid application)");
  assert_logged("tftp: server ready on 192.168.0.10 port 69");
}
END_TEST

/* A valid application and no Key: the jump, and lwIP never started (as on the chip, where
 * the Ethernet stays off for the application). */
START_TEST(test_valid_application_jumps)
{
  install_app(TL_SP, TL_USER_BASE + 0x1C9u);
  start(false);
  ck_assert_int_eq(bl.state, BOOTLOADER_APPLICATION);
  ck_assert_uint_eq(board_seen.jumps, 1);
  ck_assert_uint_eq(board_seen.msp, TL_SP);
  ck_assert_uint_eq(board_seen.pc, TL_USER_BASE + 0x1C9u);
  ck_assert_uint_eq(board_seen.netif_starts, 0);
  ck_assert_str_eq(log_text, "boot: jump to application: MSP=0x20020000 PC=0x080101c9\n");
}
END_TEST

/* ---- the address ---------------------------------------------------------------------- */

START_TEST(test_dhcp_answer)
{
  lan.dhcp_server = true;
  start(true);
  /* The services wait for the address. */
  assert_not_logged("server ready");
  run_for(2000);  /* DISCOVER, OFFER, REQUEST, ACK, the ARP check of the address */
  ck_assert_uint_eq(lan.discovers, 1);
  ck_assert_uint_eq(lan.requests, 1);
  ck_assert_int_eq(bl.address.source, ADDRESS_DHCP);
  ck_assert_uint_eq(lwip_ntohl(netif_ip4_addr(&fake_netif)->addr), LEASE_IP);
  ck_assert_str_eq(log_text,
                   "boot: IAP mode (no application)\n"
                   "net: DHCP: looking for a server (static address after 3 s without "
                   "answer)\n"
                   "net: DHCP: address 192.168.0.50 netmask 255.255.255.0 gateway "
                   "192.168.0.1 from server 192.168.0.1, lease 600 s\n"
                   "http: server ready on 192.168.0.50 port 80\n"
                   "tftp: server ready on 192.168.0.50 port 69\n");
  run_for(3000);  /* the fallback timer is gone */
  assert_not_logged("no answer");
}
END_TEST

START_TEST(test_dhcp_timeout_static_fallback)
{
  start(true);
  run_for(2900);
  assert_not_logged("server ready");
  ck_assert_int_eq(bl.address.source, ADDRESS_PENDING);
  run_for(200);
  ck_assert_int_eq(bl.address.source, ADDRESS_FALLBACK);
  ck_assert_uint_eq(lwip_ntohl(netif_ip4_addr(&fake_netif)->addr), BOARD_IP);
  ck_assert_str_eq(log_text,
                   "boot: IAP mode (no application)\n"
                   "net: DHCP: looking for a server (static address after 3 s without "
                   "answer)\n"
                   "net: warning: DHCP: no answer within 3 s; using the static address "
                   "192.168.0.10\n"
                   "http: server ready on 192.168.0.10 port 80\n"
                   "tftp: server ready on 192.168.0.10 port 69\n");
}
END_TEST

/* ---- resets from the running bootloader ------------------------------------------------ */

/* RESET MCU on the HTTP page asks through the server's request_reset callback, from lwIP's
 * context; the reset happens in the main loop's bootloader_poll(), through the board. */
START_TEST(test_http_reset_request)
{
  start(false);
  install_app(TL_SP, TL_USER_BASE + 0x1C9u);  /* as an upload would have left it */
  const struct http_app *app = http_server_app();
  ck_assert_ptr_nonnull(app);
  app->cfg.request_reset(app->cfg.reset_ctx);
  ck_assert_uint_eq(board_seen.system_resets, 0);  /* not from inside lwIP */
  run_for(10);
  ck_assert_uint_eq(board_seen.system_resets, 1);
  ck_assert_uint_eq(board_seen.jumps, 1);
  ck_assert_int_eq(bl.state, BOOTLOADER_APPLICATION);
  ck_assert(!netif_is_up(&fake_netif));
  ck_assert_ptr_null(http_server_app());
  ck_assert_ptr_null(tftp_server_core());
  assert_logged("board: reset (RESET MCU on the HTTP page)\n"
                "boot: jump to application: MSP=0x20020000 PC=0x080101c9");
  run_for(1000);
  ck_assert_uint_eq(board_seen.system_resets, 1);  /* asked once, done once */
}
END_TEST

static void tftp_send(uint16_t dport, const uint8_t *pkt, size_t len)
{
  send_udp(board_mac, HOST_IP, BOARD_IP, 40000, dport, pkt, len);
}

static size_t wrq(uint8_t *p, const char *name)
{
  size_t n = 0;
  p[n++] = 0;
  p[n++] = 2;
  strcpy((char *)p + n, name);
  n += strlen(name) + 1;
  strcpy((char *)p + n, "octet");
  return n + 6;
}

/* A reset while a TFTP upload is half done: the transfer dies with the reset, nothing
 * bootable is left (the vector table is held back until the end), the board comes back in
 * IAP mode and a new upload is answered from a new port. */
START_TEST(test_reset_during_transfer)
{
  uint8_t pkt[4 + 512];
  uint8_t *img = tl_app(2048, 11);

  start(false);
  size_t n = wrq(pkt, "app.bin");
  tftp_send(69, pkt, n);
  run_for(10);
  ck_assert_uint_eq(lan.ntftp, 1);
  ck_assert_uint_eq(lan.tftp[0].src_ip, BOARD_IP);
  ck_assert_uint_eq(lan.tftp[0].len, 4);
  ck_assert_mem_eq(lan.tftp[0].data, "\0\4\0\0", 4);   /* ACK 0 */
  uint16_t tid = lan.tftp[0].src_port;
  ck_assert_uint_ne(tid, 69);
  for (uint16_t block = 1; block <= 2; block++) {
    pkt[0] = 0;
    pkt[1] = 3;
    put16(pkt + 2, block);
    memcpy(pkt + 4, img + (block - 1u) * 512u, 512);
    tftp_send(tid, pkt, sizeof(pkt));
    run_for(10);
  }
  ck_assert_uint_eq(lan.ntftp, 3);
  ck_assert_mem_eq(lan.tftp[2].data, "\0\4\0\2", 4);   /* ACK 2 */
  ck_assert(iap_writer_busy(&bl.writer));
  ck_assert_uint_eq(flash.model.erase_count[4], 1);

  size_t before = strlen(log_text);
  bootloader_reset(&bl);   /* Reset pressed, Key released */
  ck_assert(!iap_writer_busy(&bl.writer));
  run_for(10);
  /* The client hears why, from the transfer's port. */
  ck_assert_uint_eq(lan.ntftp, 4);
  ck_assert_uint_eq(lan.tftp[3].src_port, tid);
  ck_assert_uint_eq(lan.tftp[3].len, 4 + sizeof("board reset during the transfer"));
  ck_assert_mem_eq(lan.tftp[3].data, "\0\5\0\0board reset during the transfer",
                   lan.tftp[3].len);
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);
  ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE + 4), 0xFFFFFFFFu);
  ck_assert_uint_eq(board_seen.jumps, 0);
  ck_assert_int_eq(bl.state, BOOTLOADER_IAP_MODE);
  ck_assert_int_eq(bl.decision.reason, BOOT_REASON_NO_APP);
  ck_assert_str_eq(log_text + before,
                   "flash: warning: TFTP upload from 192.168.0.1 aborted after 1024 bytes: "
                   "board reset\n"
                   "flash: warning: no application in flash now: the board stays in IAP mode "
                   "at reset\n"
                   "boot: IAP mode (no application)\n"
                   "http: server ready on 192.168.0.10 port 80\n"
                   "tftp: server ready on 192.168.0.10 port 69\n");

  /* The old transfer's port is gone; port 69 answers a new upload from a new port. */
  pkt[0] = 0;
  pkt[1] = 3;
  put16(pkt + 2, 3);
  tftp_send(tid, pkt, 4 + 512);
  run_for(10);
  ck_assert_uint_eq(lan.ntftp, 4);  /* nobody listens there: no answer */
  tftp_send(69, pkt, wrq(pkt, "again.bin"));
  run_for(10);
  ck_assert_uint_eq(lan.ntftp, 5);
  ck_assert_mem_eq(lan.tftp[4].data, "\0\4\0\0", 4);
  ck_assert_uint_ne(lan.tftp[4].src_port, tid);
  free(img);
}
END_TEST

/* A new connection's SYN-ACK: its sequence number is the board's RNG's (lwIP's own is 6510
 * plus its tick count, guessable), and its window is the configured one from the start, so a
 * client that sends its body with its head never sends more than the receive ring holds. */
static void syn_ack_with_window(uint32_t window, uint16_t expected)
{
  struct bootloader_config cfg = config(false);
  cfg.http_tcp_window = window;
  bootloader_init(&bl, &cfg, &fake_board, flash.dev);
  bootloader_reset(&bl);
  board_seen.random = 0x5EC0DE01u;
  send_syn(40001, 1000);
  run_for(20);
  board_seen.random = 0x5EC0DE02u;
  send_syn(40002, 2000);
  run_for(20);
  ck_assert_uint_eq(lan.nhttp, 2);
  for (unsigned i = 0; i < 2; i++) {
    ck_assert_uint_eq(lan.http[i].dst_port, 40001 + i);
    ck_assert_uint_eq(lan.http[i].flags, 0x12);  /* SYN, ACK */
    ck_assert_uint_eq(lan.http[i].seq, 0x5EC0DE01u + i);
    ck_assert_uint_eq(lan.http[i].ack, 1000 * (i + 1) + 1);
    ck_assert_uint_eq(lan.http[i].window, expected);
  }
}

START_TEST(test_syn_ack_board_window)
{
  syn_ack_with_window(4 * TCP_MSS, 5840);
}
END_TEST

START_TEST(test_syn_ack_full_window)
{
  syn_ack_with_window(0, TCP_WND);
}
END_TEST

/* A segment that arrives after a later one (its frame was dropped by the board's full
 * receive ring during a flash stall, and sent again): the later one was kept, so the ACK
 * that answers the resend covers both, and the client resends nothing else. */
START_TEST(test_out_of_order_segment_kept)
{
  static const char first[] = "GET / HTTP/1.1\r\n";
  static const char second[] = "Host: 192.168.0.10\r\n";
  const uint32_t isn = 5000, data = isn + 1;

  start(false);
  send_syn(40003, isn);
  run_for(20);
  ck_assert_uint_eq(lan.nhttp, 1);
  const uint32_t board_next = lan.http[0].seq + 1;
  send_tcp(40003, data, board_next, 0x10, NULL);  /* the handshake's ACK */
  run_for(20);
  send_tcp(40003, data + strlen(first), board_next, 0x18, second);  /* the later one */
  run_for(20);
  ck_assert_uint_eq(lan.nhttp, 2);  /* a duplicate ACK at once: the gap */
  ck_assert_uint_eq(lan.http[1].ack, data);
  send_tcp(40003, data, board_next, 0x18, first);  /* the resend fills it */
  run_for(500);  /* past lwIP's delayed ACK */
  ck_assert_uint_eq(lan.nhttp, 3);
  ck_assert_uint_eq(lan.http[2].flags, 0x10);
  ck_assert_uint_eq(lan.http[2].ack, data + strlen(first) + strlen(second));
}
END_TEST

/* The emulator's exit: servers stopped, an upload aborted, flash synced. */
START_TEST(test_shutdown)
{
  start(false);
  ck_assert_int_eq(bootloader_shutdown(&bl), FLASH_OK);
  ck_assert_ptr_null(http_server_app());
  ck_assert_ptr_null(tftp_server_core());
}
END_TEST

static Suite *bootloader_suite(void)
{
  Suite *s = suite_create("bootloader");
  TCase *tc = tcase_create("flow");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_key_held_iap_mode);
  tcase_add_test(tc, test_no_application_iap_mode);
  tcase_add_test(tc, test_invalid_application_iap_mode);
  tcase_add_test(tc, test_valid_application_jumps);
  tcase_add_test(tc, test_dhcp_answer);
  tcase_add_test(tc, test_dhcp_timeout_static_fallback);
  tcase_add_test(tc, test_http_reset_request);
  tcase_add_test(tc, test_reset_during_transfer);
  tcase_add_test(tc, test_shutdown);
  tcase_add_test(tc, test_syn_ack_board_window);
  tcase_add_test(tc, test_syn_ack_full_window);
  tcase_add_test(tc, test_out_of_order_segment_kept);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(bootloader_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
