/*
 * The user-mode network backend (emul/net/slirpif.c) without lwIP: the test plays the board,
 * writing Ethernet frames into slirp and reading back, byte for byte, what slirp sends it.
 * ARP for slirp's host address, the DHCP offer, the bounded queue and its eventfd, a UDP
 * forward from a socket on 127.0.0.1 to the board and the board's answer from a new port
 * (what TFTP does), the forwards following the board to a new address, and the messages when
 * a host port cannot be bound. Only loopback sockets; no privilege.
 */
#include "config.h"

/* lwIP's byte-order macros (through netif_backend.h) first: glibc's may then redefine them
 * silently, as system headers do; the other way round lwIP's redefinition is an error. */
#include "poll_set.h"
#include "slirpif.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const uint8_t board_mac[6] = { 0, 0, 0, 0, 0, 2 };
static const uint8_t host_mac[6] = { 0x52, 0x55, 192, 168, 0, 1 }; /* slirp: 52:55 + address */
static const uint8_t board_ip[4] = { 192, 168, 0, 10 };
static const uint8_t leased_ip[4] = { 192, 168, 0, 15 };
static const uint8_t host_ip[4] = { 192, 168, 0, 1 };
static const uint8_t loopback[4] = { 127, 0, 0, 1 };

static struct slirpif sl;        /* ~100 KiB: not on the stack */
static struct poll_set ps;

static void setup(void)
{
  static const struct slirpif_config cfg = {
    .network = { 192, 168, 0, 0 }, .netmask = { 255, 255, 255, 0 },
    .host = { 192, 168, 0, 1 }, .dhcp_start = { 192, 168, 0, 15 },
    .board = { 192, 168, 0, 10 },
  };
  char err[256] = "";

  ck_assert_msg(slirpif_open(&sl, &cfg, err, sizeof(err)) >= 0, "slirpif_open: %s", err);
  ck_assert(poll_set_init(&ps, 4));
}

static void teardown(void)
{
  slirpif_close(&sl);
  poll_set_free(&ps);
}

/* --- frames ---------------------------------------------------------------------------- */

static size_t put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
  return 2;
}

static uint16_t get16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += get16(p + i);
  while (sum >> 16)
    sum = (sum & 0xFFFF) + (sum >> 16);
  return (uint16_t)~sum;
}

static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t sha[6], const uint8_t spa[4],
                        const uint8_t tha[6], const uint8_t tpa[4], const uint8_t dst[6])
{
  memcpy(f, dst, 6);
  memcpy(f + 6, sha, 6);
  put16(f + 12, 0x0806);
  put16(f + 14, 1);        /* Ethernet */
  put16(f + 16, 0x0800);   /* IPv4 */
  f[18] = 6;
  f[19] = 4;
  put16(f + 20, op);
  memcpy(f + 22, sha, 6);
  memcpy(f + 28, spa, 4);
  memcpy(f + 32, tha, 6);
  memcpy(f + 38, tpa, 4);
  return 42;
}

/* The board asks who has tpa. */
static size_t arp_request(uint8_t *f, const uint8_t spa[4], const uint8_t tpa[4])
{
  static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  return arp_frame(f, 1, board_mac, spa, zero, tpa, bcast);
}

/* An Ethernet + IPv4 + UDP frame from the board to slirp's host (UDP checksum 0: none). */
static size_t udp_frame(uint8_t *f, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                        uint16_t dport, const void *payload, size_t len)
{
  memcpy(f, host_mac, 6);
  memcpy(f + 6, board_mac, 6);
  put16(f + 12, 0x0800);
  uint8_t *ip = f + 14;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  put16(ip + 2, (uint16_t)(28 + len));
  ip[8] = 64;
  ip[9] = 17;
  memcpy(ip + 12, src, 4);
  memcpy(ip + 16, dst, 4);
  put16(ip + 10, ip_checksum(ip, 20));
  uint8_t *udp = ip + 20;
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, (uint16_t)(8 + len));
  put16(udp + 6, 0);
  memcpy(udp + 8, payload, len);
  return 14 + 28 + len;
}

static void board_sends(const uint8_t *frame, size_t len)
{
  ck_assert(slirpif_ops.send(&sl, frame, len));
}

/* True when the eventfd says a frame waits, as the main loop's poll() sees it. */
static bool frame_signalled(void)
{
  struct pollfd p = { .fd = sl.event_fd, .events = POLLIN };
  ck_assert_int_ge(poll(&p, 1, 0), 0);
  return (p.revents & POLLIN) != 0;
}

/* Runs slirp as iapd's main loop does, until a frame waits for the board (bounded). */
static bool pump_until_frame(int timeout_ms)
{
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (frame_signalled())
      return true;
    int timeout = 10;
    poll_set_clear(&ps);
    slirpif_poll_fill(&sl, &ps, &timeout);
    if (timeout < 0 || timeout > 10)
      timeout = 10;
    int rc = poll(ps.fds, ps.count, timeout);
    slirpif_poll_dispatch(&sl, rc < 0);
  }
  return frame_signalled();
}

/* The next frame slirp sent the board; fails when none waits. */
static size_t board_receives(uint8_t *buf)
{
  ssize_t n = slirpif_ops.recv(&sl, buf, NETIF_BACKEND_FRAME_MAX);
  ck_assert_int_gt(n, 0);
  return (size_t)n;
}

/* The board answers slirp's "who has ip" for itself. */
static void board_answers_arp(const uint8_t *request, const uint8_t ip[4])
{
  uint8_t f[64];
  ck_assert_uint_eq(get16(request + 12), 0x0806);
  ck_assert_uint_eq(get16(request + 20), 1);
  ck_assert_mem_eq(request + 38, ip, 4);
  board_sends(f, arp_frame(f, 2, board_mac, ip, host_mac, host_ip, host_mac));
}

/* --- ARP and the queue ------------------------------------------------------------------ */

START_TEST(arp_for_the_host_is_answered_exactly)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX], expected[64] = { 0 };

  ck_assert(!frame_signalled());
  board_sends(f, arp_request(f, board_ip, host_ip));
  /* Answered within slirp_input: the reply already waits. */
  ck_assert(frame_signalled());
  arp_frame(expected, 2, host_mac, host_ip, board_mac, board_ip, board_mac);
  ck_assert_uint_eq(board_receives(f), 64);   /* slirp pads to the Ethernet minimum */
  ck_assert_mem_eq(f, expected, 64);
  ck_assert(!frame_signalled());
  ck_assert_int_eq(slirpif_ops.recv(&sl, f, sizeof(f)), 0);
}
END_TEST

START_TEST(arp_for_other_addresses_is_not_answered)
{
  static const uint8_t other[4] = { 192, 168, 0, 77 };
  uint8_t f[64];

  board_sends(f, arp_request(f, board_ip, other));
  ck_assert(!frame_signalled());
  ck_assert_int_eq(slirpif_ops.recv(&sl, f, sizeof(f)), 0);
}
END_TEST

START_TEST(queue_is_bounded_and_keeps_order)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX];
  const unsigned sent = SLIRPIF_QUEUE_FRAMES + 6;

  /* Each request names another sender address, so each reply says whom it answers. */
  for (unsigned i = 0; i < sent; i++) {
    const uint8_t spa[4] = { 192, 168, 0, (uint8_t)(100 + i) };
    board_sends(f, arp_request(f, spa, host_ip));
  }
  ck_assert_uint_eq(sl.count, SLIRPIF_QUEUE_FRAMES);
  ck_assert_uint_eq(sl.queue_full, 6);
  for (unsigned i = 0; i < SLIRPIF_QUEUE_FRAMES; i++) {
    ck_assert(frame_signalled());
    ck_assert_uint_eq(board_receives(f), 64);
    ck_assert_uint_eq(f[41], 100 + i);        /* the target protocol address's last octet */
  }
  ck_assert(!frame_signalled());
  ck_assert_int_eq(slirpif_ops.recv(&sl, f, sizeof(f)), 0);
}
END_TEST

START_TEST(frame_too_big_for_the_caller_is_dropped_not_stuck)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX];

  board_sends(f, arp_request(f, board_ip, host_ip));
  board_sends(f, arp_request(f, board_ip, host_ip));
  ck_assert_uint_eq(sl.count, 2);
  ck_assert_int_eq(slirpif_ops.recv(&sl, f, 10), -1);   /* 64 bytes wait: do not fit */
  ck_assert_uint_eq(sl.count, 1);
  ck_assert(frame_signalled());
  ck_assert_uint_eq(board_receives(f), 64);             /* the next one comes through */
  ck_assert(!frame_signalled());
}
END_TEST

/* --- DHCP ------------------------------------------------------------------------------- */

START_TEST(dhcp_offers_the_first_lease_address)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX], msg[300] = { 0 };
  static const uint8_t any[4] = { 0 }, bcast[4] = { 255, 255, 255, 255 };

  /* DHCPDISCOVER (RFC 2131): op 1, Ethernet, xid, chaddr, magic cookie, option 53 = 1. */
  msg[0] = 1;
  msg[1] = 1;
  msg[2] = 6;
  memcpy(msg + 4, "\x12\x34\x56\x78", 4);
  memcpy(msg + 28, board_mac, 6);
  memcpy(msg + 236, "\x63\x82\x53\x63", 4);
  memcpy(msg + 240, "\x35\x01\x01\xff", 4);
  size_t len = udp_frame(f, any, 68, bcast, 67, msg, sizeof(msg));
  memset(f, 0xff, 6);
  board_sends(f, len);

  ck_assert(pump_until_frame(1000));
  size_t n = board_receives(f);
  ck_assert_uint_ge(n, 14 + 28 + 240);
  ck_assert_mem_eq(f, "\xff\xff\xff\xff\xff\xff", 6);  /* to a client without address */
  ck_assert_mem_eq(f + 6, host_mac, 6);
  ck_assert_uint_eq(get16(f + 12), 0x0800);
  const uint8_t *ip = f + 14, *udp = f + 34, *bootp = f + 42;
  ck_assert_uint_eq(ip[9], 17);
  ck_assert_mem_eq(ip + 12, host_ip, 4);
  ck_assert_uint_eq(get16(udp), 67);
  ck_assert_uint_eq(get16(udp + 2), 68);
  ck_assert_uint_eq(bootp[0], 2);                         /* BOOTREPLY */
  ck_assert_mem_eq(bootp + 4, "\x12\x34\x56\x78", 4);    /* our xid */
  ck_assert_mem_eq(bootp + 16, leased_ip, 4);             /* yiaddr */
  ck_assert_mem_eq(bootp + 28, board_mac, 6);
  /* The options the board's DHCP client uses: offer, server, netmask, router. */
  const uint8_t *o = bootp + 240, *end = f + n;
  bool offer = false, server = false, mask = false, router = false;
  while (o + 2 <= end && o[0] != 0xff) {
    if (o[0] == 0) {
      o++;
      continue;
    }
    if (o[0] == 53 && o[1] == 1 && o[2] == 2)
      offer = true;
    if (o[0] == 54 && o[1] == 4 && memcmp(o + 2, host_ip, 4) == 0)
      server = true;
    if (o[0] == 1 && o[1] == 4 && memcmp(o + 2, "\xff\xff\xff\x00", 4) == 0)
      mask = true;
    if (o[0] == 3 && o[1] == 4 && memcmp(o + 2, host_ip, 4) == 0)
      router = true;
    o += 2 + o[1];
  }
  ck_assert(offer);
  ck_assert(server);
  ck_assert(mask);
  ck_assert(router);
}
END_TEST

/* --- forwards --------------------------------------------------------------------------- */

/* A loopback socket of the test's (the TFTP client), bound to a port the kernel picks. */
static int client_socket(int type, uint16_t *port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t alen = sizeof(a);
  int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(s, 0);
  ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
  *port = ntohs(a.sin_port);
  return s;
}

/* A port on 127.0.0.1 that was free a moment ago (for the forward's host side). */
static uint16_t free_port(int type)
{
  uint16_t port;
  close(client_socket(type, &port));
  return port;
}

static void send_to_port(int sock, uint16_t port, const char *text)
{
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  ck_assert_int_eq(sendto(sock, text, strlen(text), 0, (struct sockaddr *)&to, sizeof(to)),
                   (ssize_t)strlen(text));
}

/* Asserts f is the UDP datagram text from slirp's host (client_port) to dst:dport. */
static void assert_udp_to_board(const uint8_t *f, size_t n, const uint8_t dst[4],
                                uint16_t client_port, uint16_t dport, const char *text)
{
  size_t len = strlen(text);
  ck_assert_uint_eq(n, 14 + 28 + len);
  ck_assert_mem_eq(f, board_mac, 6);
  ck_assert_uint_eq(get16(f + 12), 0x0800);
  ck_assert_uint_eq(f[14 + 9], 17);
  ck_assert_mem_eq(f + 14 + 12, host_ip, 4);   /* 127.0.0.1 appears as slirp's host */
  ck_assert_mem_eq(f + 14 + 16, dst, 4);
  ck_assert_uint_eq(get16(f + 34), client_port);
  ck_assert_uint_eq(get16(f + 36), dport);
  ck_assert_mem_eq(f + 42, text, len);
}

/* The board tells slirp its MAC, as lwIP's first ARP request for its gateway does. */
static void board_introduces_itself(void)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX];
  board_sends(f, arp_request(f, board_ip, host_ip));
  board_receives(f);
}

START_TEST(udp_forward_reaches_the_board_and_the_answer_comes_from_a_new_port)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX];
  char err[256] = "", got[16] = "";
  uint16_t client_port, fwd_port = free_port(SOCK_DGRAM);
  int client = client_socket(SOCK_DGRAM, &client_port);
  struct slirpif_forward fwd = { .udp = true, .host_port = fwd_port, .board_port = 69 };
  memcpy(fwd.host_addr, loopback, 4);

  ck_assert_msg(slirpif_add_forward(&sl, &fwd, err, sizeof(err)) == 0, "%s", err);
  board_introduces_itself();
  send_to_port(client, fwd_port, "WRQ");
  ck_assert(pump_until_frame(2000));
  assert_udp_to_board(f, board_receives(f), board_ip, client_port, 69, "WRQ");

  /* The board answers from its transfer's own port (TFTP's TID, RFC 1350 section 4). */
  board_sends(f, udp_frame(f, board_ip, 49153, host_ip, client_port, "ACK0", 4));
  struct sockaddr_in from;
  socklen_t flen = sizeof(from);
  struct pollfd p = { .fd = client, .events = POLLIN };
  for (int i = 0; i < 200 && poll(&p, 1, 0) == 0; i++)
    pump_until_frame(10);
  ck_assert_int_eq(recvfrom(client, got, sizeof(got), MSG_DONTWAIT, (struct sockaddr *)&from,
                            &flen), 4);
  ck_assert_mem_eq(got, "ACK0", 4);
  ck_assert_uint_eq(ntohl(from.sin_addr.s_addr), INADDR_LOOPBACK);
  /* A new host port, not the forward's: the client must take it as the server's TID. */
  ck_assert_uint_ne(ntohs(from.sin_port), fwd_port);

  /* ... and what the client sends there reaches the board's transfer port. */
  ck_assert_int_eq(sendto(client, "DATA1", 5, 0, (struct sockaddr *)&from, flen), 5);
  ck_assert(pump_until_frame(2000));
  assert_udp_to_board(f, board_receives(f), board_ip, client_port, 49153, "DATA1");
  close(client);
}
END_TEST

START_TEST(forwards_follow_the_board_to_a_leased_address)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX];
  char err[256] = "";
  uint16_t client_port, fwd_port = free_port(SOCK_DGRAM);
  int client = client_socket(SOCK_DGRAM, &client_port);
  struct slirpif_forward fwd = { .udp = true, .host_port = fwd_port, .board_port = 69 };
  memcpy(fwd.host_addr, loopback, 4);

  ck_assert_msg(slirpif_add_forward(&sl, &fwd, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(slirpif_follow_board(&sl, board_ip, err, sizeof(err)), 0);
  ck_assert_int_eq(slirpif_follow_board(&sl, leased_ip, err, sizeof(err)), 1);
  ck_assert_mem_eq(sl.board, leased_ip, 4);

  send_to_port(client, fwd_port, "WRQ");
  /* slirp does not know who has the new address yet: it asks first. */
  ck_assert(pump_until_frame(2000));
  ssize_t n = (ssize_t)board_receives(f);
  ck_assert_int_ge(n, 42);
  ck_assert_mem_eq(f + 28, host_ip, 4);
  board_answers_arp(f, leased_ip);
  ck_assert(pump_until_frame(2000));
  assert_udp_to_board(f, board_receives(f), leased_ip, client_port, 69, "WRQ");
  close(client);
}
END_TEST

START_TEST(tcp_forward_opens_a_connection_to_the_board)
{
  uint8_t f[NETIF_BACKEND_FRAME_MAX];
  char err[256] = "";
  uint16_t fwd_port = free_port(SOCK_STREAM);
  struct slirpif_forward fwd = { .udp = false, .host_port = fwd_port, .board_port = 80 };
  memcpy(fwd.host_addr, loopback, 4);

  ck_assert_msg(slirpif_add_forward(&sl, &fwd, err, sizeof(err)) == 0, "%s", err);
  board_introduces_itself();
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(fwd_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int rc = connect(c, (struct sockaddr *)&to, sizeof(to));
  ck_assert(rc == 0 || errno == EINPROGRESS);
  ck_assert(pump_until_frame(2000));
  size_t n = board_receives(f);
  ck_assert_uint_ge(n, 14 + 40);
  ck_assert_uint_eq(f[14 + 9], 6);                  /* TCP */
  ck_assert_mem_eq(f + 14 + 12, host_ip, 4);
  ck_assert_mem_eq(f + 14 + 16, board_ip, 4);
  ck_assert_uint_eq(get16(f + 36), 80);
  ck_assert_uint_eq(f[47] & 0x3f, 0x02);            /* SYN alone */
  close(c);
}
END_TEST

START_TEST(forward_on_a_port_in_use_says_so)
{
  char err[256] = "", expected[256];
  uint16_t port;
  int holder = client_socket(SOCK_DGRAM, &port);
  struct slirpif_forward fwd = { .udp = true, .host_port = port, .board_port = 69 };
  memcpy(fwd.host_addr, loopback, 4);

  ck_assert_int_eq(slirpif_add_forward(&sl, &fwd, err, sizeof(err)), -1);
  snprintf(expected, sizeof(expected), "cannot bind 127.0.0.1:%u/udp: Address already in use "
           "(another program has it: pick another host port)", port);
  ck_assert_str_eq(err, expected);
  ck_assert_uint_eq(sl.forward_count, 0);
  close(holder);

  /* TCP: a listener holds the port. */
  int listener = client_socket(SOCK_STREAM, &port);
  ck_assert_int_eq(listen(listener, 1), 0);
  fwd.udp = false;
  fwd.host_port = port;
  ck_assert_int_eq(slirpif_add_forward(&sl, &fwd, err, sizeof(err)), -1);
  snprintf(expected, sizeof(expected), "cannot bind 127.0.0.1:%u/tcp: Address already in use "
           "(another program has it: pick another host port)", port);
  ck_assert_str_eq(err, expected);
  close(listener);
}
END_TEST

START_TEST(forward_on_a_foreign_address_says_so)
{
  char err[256] = "";
  /* 192.0.2.1: TEST-NET-1 (RFC 5737), on no interface of a test machine. */
  struct slirpif_forward fwd = { .udp = true, .host_addr = { 192, 0, 2, 1 },
                                 .host_port = 6969, .board_port = 69 };

  ck_assert_int_eq(slirpif_add_forward(&sl, &fwd, err, sizeof(err)), -1);
  ck_assert_str_eq(err, "cannot bind 192.0.2.1:6969/udp: Cannot assign requested address "
                   "(no interface of this host has that address)");
}
END_TEST

START_TEST(close_twice_and_close_unopened_are_harmless)
{
  struct slirpif *never = calloc(1, sizeof(*never));
  ck_assert_ptr_nonnull(never);
  if (fcntl(0, F_GETFD) < 0)      /* descriptor 0 open, whatever the harness left there */
    ck_assert_int_eq(open("/dev/null", O_RDONLY), 0);
  slirpif_close(never);           /* its event_fd reads 0: that descriptor must stay open */
  ck_assert_int_ge(fcntl(0, F_GETFD), 0);
  free(never);
  slirpif_close(&sl);
  slirpif_close(&sl);
}
END_TEST

static Suite *slirpif_suite(void)
{
  Suite *s = suite_create("slirpif");
  TCase *tc = tcase_create("user-net");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, arp_for_the_host_is_answered_exactly);
  tcase_add_test(tc, arp_for_other_addresses_is_not_answered);
  tcase_add_test(tc, queue_is_bounded_and_keeps_order);
  tcase_add_test(tc, frame_too_big_for_the_caller_is_dropped_not_stuck);
  tcase_add_test(tc, dhcp_offers_the_first_lease_address);
  tcase_add_test(tc, udp_forward_reaches_the_board_and_the_answer_comes_from_a_new_port);
  tcase_add_test(tc, forwards_follow_the_board_to_a_leased_address);
  tcase_add_test(tc, tcp_forward_opens_a_connection_to_the_board);
  tcase_add_test(tc, forward_on_a_port_in_use_says_so);
  tcase_add_test(tc, forward_on_a_foreign_address_says_so);
  tcase_add_test(tc, close_twice_and_close_unopened_are_harmless);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(slirpif_suite());
}
