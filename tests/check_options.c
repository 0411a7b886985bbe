/*
 * options_parse(): defaults, every option and config key, every refusal with the exact words
 * the user reads. Output and error streams are fmemopen buffers; configuration files are
 * written to a temporary directory. Every command line but the default-file tests names
 * --config /dev/null (an empty file), so a real iapd.conf on the machine cannot interfere.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "testlib.h"

#define MAX_ARGS 32

struct run {
  struct iapd_options o;
  enum options_status status;
  char out[16384];
  char err[4096];
};

static struct run r;
static char tmpdir[64];
static char conf_path[128];

static void setup(void)
{
  strcpy(tmpdir, "/tmp/check_options.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  snprintf(conf_path, sizeof(conf_path), "%s/iapd.conf", tmpdir);
  memset(&r, 0, sizeof(r));
}

static void teardown(void)
{
  unlink(conf_path);
  rmdir(tmpdir);
}

/* Runs options_parse on "iapd" followed by the NULL-terminated arguments. */
static enum options_status parse(const char *arg, ...)
{
  static char storage[MAX_ARGS][IAPD_PATH_MAX + 32];
  char *argv[MAX_ARGS + 1];
  int argc = 0;
  va_list ap;

  strcpy(storage[argc], "iapd");
  argv[argc] = storage[argc];
  argc++;
  va_start(ap, arg);
  for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
    ck_assert_int_lt(argc, MAX_ARGS);
    ck_assert_uint_lt(strlen(a), sizeof(storage[0]));
    strcpy(storage[argc], a);
    argv[argc] = storage[argc];
    argc++;
  }
  va_end(ap);
  argv[argc] = NULL;

  memset(r.out, 0, sizeof(r.out));
  memset(r.err, 0, sizeof(r.err));
  FILE *out = fmemopen(r.out, sizeof(r.out), "w");
  FILE *err = fmemopen(r.err, sizeof(r.err), "w");
  ck_assert_ptr_nonnull(out);
  ck_assert_ptr_nonnull(err);
  r.status = options_parse(&r.o, argc, argv, out, err);
  fclose(out);
  fclose(err);
  return r.status;
}

static void write_conf(const char *text)
{
  FILE *f = fopen(conf_path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static void assert_ip(const uint8_t got[4], unsigned a, unsigned b, unsigned c, unsigned d)
{
  ck_assert_uint_eq(got[0], a);
  ck_assert_uint_eq(got[1], b);
  ck_assert_uint_eq(got[2], c);
  ck_assert_uint_eq(got[3], d);
}

/* The command line was refused with exactly this message. */
static void assert_refused(const char *message)
{
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  ck_assert_str_eq(r.err, message);
  ck_assert_str_eq(r.out, "");
}

/* --- defaults ------------------------------------------------------------------------- */

static void assert_defaults(const struct iapd_options *o)
{
  static const uint8_t mac[6] = { 0, 0, 0, 0, 0, 2 };

  ck_assert(!o->foreground);
  ck_assert_str_eq(o->tap, "iapd0");
  ck_assert_int_eq(o->host_addr_mode, HOST_ADDR_DEFAULT);
  assert_ip(o->host_addr, 192, 168, 0, 1);
  ck_assert_uint_eq(o->host_prefix, 24);
  ck_assert_str_eq(o->flash_path, "iapd-flash.bin");
  assert_ip(o->ip, 192, 168, 0, 10);
  assert_ip(o->netmask, 255, 255, 255, 0);
  assert_ip(o->gateway, 192, 168, 0, 1);
  ck_assert_mem_eq(o->mac, mac, 6);
  ck_assert_uint_eq(o->user_flash, 0x08010000u);
  ck_assert(!o->key);
  ck_assert(!o->exit_on_jump);
  ck_assert(o->tftp);
  ck_assert_uint_eq(o->tftp_max_blksize, 1468);
  ck_assert_uint_eq(o->tftp_max_windowsize, 64);
  ck_assert_int_eq(o->verbose, 0);
  /* Nothing of the silicon model is on by default. */
  ck_assert_int_eq(o->flash_timing, FLASH_TIMING_NONE);
  ck_assert(o->flash_timing_scale == 1.0);
  ck_assert_uint_eq(o->power_cut_at_op, 0);
  ck_assert_int_eq(o->power_cut_mode, FLASH_CUT_TORN);
  ck_assert_uint_eq(o->seed, 0);
  ck_assert(!o->user_net);
  ck_assert_uint_eq(o->forward_count, 0);
}

START_TEST(test_defaults)
{
  struct iapd_options o;

  memset(&o, 0xA5, sizeof(o));
  options_defaults(&o);
  assert_defaults(&o);
  ck_assert_str_eq(o.config_path, "");
}
END_TEST

START_TEST(test_no_options_gives_defaults)
{
  ck_assert_int_eq(parse("--config", "/dev/null", NULL), OPTIONS_OK);
  assert_defaults(&r.o);
  ck_assert_str_eq(r.o.config_path, "/dev/null");
  ck_assert_str_eq(r.out, "");
  ck_assert_str_eq(r.err, "");
}
END_TEST

/* --- every option --------------------------------------------------------------------- */

START_TEST(test_flags_long)
{
  ck_assert_int_eq(parse("-c/dev/null", "--foreground", "--key", "--exit-on-jump",
                         "--no-tftp", "--verbose", NULL), OPTIONS_OK);
  ck_assert(r.o.foreground);
  ck_assert(r.o.key);
  ck_assert(r.o.exit_on_jump);
  ck_assert(!r.o.tftp);
  ck_assert_int_eq(r.o.verbose, 1);
  ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(test_flags_short)
{
  ck_assert_int_eq(parse("-c", "/dev/null", "-f", "-k", "-v", "-vv", NULL), OPTIONS_OK);
  ck_assert(r.o.foreground);
  ck_assert(r.o.key);
  ck_assert_int_eq(r.o.verbose, 3);
  ck_assert(r.o.tftp);
  ck_assert(!r.o.exit_on_jump);
}
END_TEST

START_TEST(test_values)
{
  static const uint8_t mac[6] = { 0x02, 0xAB, 0xcd, 0x00, 0x10, 0xFF };

  ck_assert_int_eq(parse("--config=/dev/null", "--tap", "tap-test1", "--host-addr",
                         "10.1.0.1/16", "--flash", "/tmp/some flash.bin", "--ip", "10.1.2.3",
                         "--netmask", "255.255.0.0", "--gateway", "10.1.0.254", "--mac",
                         "02:ab:CD:00:10:ff", "--user-flash", "0x08020000", NULL),
                   OPTIONS_OK);
  ck_assert_str_eq(r.err, "");
  ck_assert_str_eq(r.o.tap, "tap-test1");
  ck_assert_int_eq(r.o.host_addr_mode, HOST_ADDR_SET);
  assert_ip(r.o.host_addr, 10, 1, 0, 1);
  ck_assert_uint_eq(r.o.host_prefix, 16);
  ck_assert_str_eq(r.o.flash_path, "/tmp/some flash.bin");
  assert_ip(r.o.ip, 10, 1, 2, 3);
  assert_ip(r.o.netmask, 255, 255, 0, 0);
  assert_ip(r.o.gateway, 10, 1, 0, 254);
  ck_assert_mem_eq(r.o.mac, mac, 6);
  ck_assert_uint_eq(r.o.user_flash, 0x08020000u);
}
END_TEST

START_TEST(test_short_values)
{
  ck_assert_int_eq(parse("-c", "/dev/null", "-t", "tap9", NULL), OPTIONS_OK);
  ck_assert_str_eq(r.o.tap, "tap9");
  ck_assert_str_eq(r.o.config_path, "/dev/null");
}
END_TEST

START_TEST(test_host_addr_none)
{
  ck_assert_int_eq(parse("-c/dev/null", "--host-addr", "none", NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.host_addr_mode, HOST_ADDR_NONE);
}
END_TEST

START_TEST(test_host_addr_prefix_32)
{
  ck_assert_int_eq(parse("-c/dev/null", "--host-addr", "192.168.7.1/32", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.host_prefix, 32);
}
END_TEST

/* Every sector start from 1 to 11, in hex and in decimal. */
START_TEST(test_user_flash_every_sector)
{
  static const uint32_t starts[] = { 0x08004000, 0x08008000, 0x0800C000, 0x08010000,
                                     0x08020000, 0x08040000, 0x08060000, 0x08080000,
                                     0x080A0000, 0x080C0000, 0x080E0000 };
  char text[16];

  for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
    snprintf(text, sizeof(text), "0x%08X", (unsigned)starts[i]);
    ck_assert_int_eq(parse("-c/dev/null", "--user-flash", text, NULL), OPTIONS_OK);
    ck_assert_uint_eq(r.o.user_flash, starts[i]);
    snprintf(text, sizeof(text), "%u", (unsigned)starts[i]);
    ck_assert_int_eq(parse("-c/dev/null", "--user-flash", text, NULL), OPTIONS_OK);
    ck_assert_uint_eq(r.o.user_flash, starts[i]);
  }
}
END_TEST

START_TEST(test_gateway_none)
{
  ck_assert_int_eq(parse("-c/dev/null", "--gateway", "0.0.0.0", NULL), OPTIONS_OK);
  assert_ip(r.o.gateway, 0, 0, 0, 0);
}
END_TEST

START_TEST(test_last_one_wins)
{
  ck_assert_int_eq(parse("-c/dev/null", "--ip", "10.0.0.5", "--ip", "10.0.0.6", NULL),
                   OPTIONS_OK);
  assert_ip(r.o.ip, 10, 0, 0, 6);
}
END_TEST

/* One argument can carry many settings: -vvvvvvvvvv is ten. */
START_TEST(test_bundled_flags)
{
  ck_assert_int_eq(parse("-fkvvvvvvvvvvc/dev/null", NULL), OPTIONS_OK);
  ck_assert(r.o.foreground);
  ck_assert(r.o.key);
  ck_assert_int_eq(r.o.verbose, 10);
  ck_assert_str_eq(r.o.config_path, "/dev/null");
}
END_TEST

/* getopt_long keeps state in globals: a second parse must start afresh. */
START_TEST(test_parse_twice)
{
  ck_assert_int_eq(parse("-c/dev/null", "-f", "--tap", "a", NULL), OPTIONS_OK);
  ck_assert_int_eq(parse("-c/dev/null", "-f", "--tap", "b", NULL), OPTIONS_OK);
  ck_assert_str_eq(r.o.tap, "b");
  ck_assert_int_eq(parse("-c/dev/null", "-vk", NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.verbose, 1);
  ck_assert(!r.o.foreground);
  /* A parse that stops inside a bundle leaves getopt half-way through it. */
  ck_assert_int_eq(parse("-hfk", NULL), OPTIONS_EXIT);
  ck_assert_int_eq(parse("-vc/dev/null", "--tap", "c", NULL), OPTIONS_OK);
  ck_assert_str_eq(r.o.tap, "c");
  ck_assert(!r.o.foreground);
  ck_assert(!r.o.key);
  ck_assert_int_eq(r.o.verbose, 1);
}
END_TEST

/* --- refusals ------------------------------------------------------------------------- */

START_TEST(test_bad_ip)
{
  parse("-c/dev/null", "--ip", "192.168.0", NULL);
  assert_refused("iapd: --ip 192.168.0 is not an IPv4 address (expected four numbers from 0 "
                 "to 255, as in 192.168.0.10)\n");
  parse("-c/dev/null", "--ip", "192.168.0.256", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  parse("-c/dev/null", "--ip", "", NULL);
  assert_refused("iapd: --ip '' is not an IPv4 address (expected four numbers from 0 "
                 "to 255, as in 192.168.0.10)\n");
}
END_TEST

START_TEST(test_ip_not_unicast)
{
  static const char *const bad[] = { "0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255" };
  char expected[256];

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    parse("-c/dev/null", "--ip", bad[i], NULL);
    snprintf(expected, sizeof(expected),
             "iapd: --ip %s is not a unicast address (0.x.x.x, 127.x.x.x and 224.0.0.0 and "
             "above are reserved; use one as in 192.168.0.10)\n", bad[i]);
    assert_refused(expected);
  }
}
END_TEST

START_TEST(test_bad_gateway)
{
  parse("-c/dev/null", "--gateway", "gw", NULL);
  assert_refused("iapd: --gateway gw is not an IPv4 address (expected four numbers from 0 "
                 "to 255, as in 192.168.0.10)\n");
  parse("-c/dev/null", "--gateway", "239.1.1.1", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
}
END_TEST

START_TEST(test_netmask_not_contiguous)
{
  static const char *const bad[] = { "255.0.255.0", "255.255.255.1", "0.255.255.255",
                                     "0.0.0.0" };
  char expected[256];

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    parse("-c/dev/null", "--netmask", bad[i], NULL);
    snprintf(expected, sizeof(expected),
             "iapd: --netmask %s is not a netmask (expected leading one bits followed by "
             "zero bits, as in 255.255.255.0)\n", bad[i]);
    assert_refused(expected);
  }
  ck_assert_int_eq(parse("-c/dev/null", "--netmask", "255.255.255.252", NULL), OPTIONS_OK);
  ck_assert_int_eq(parse("-c/dev/null", "--netmask", "255.255.255.255", NULL), OPTIONS_OK);
  ck_assert_int_eq(parse("-c/dev/null", "--netmask", "128.0.0.0", NULL), OPTIONS_OK);
}
END_TEST

START_TEST(test_bad_mac)
{
  static const char *const bad[] = { "00:00:00:00:02", "00:00:00:00:00:02:03",
                                     "00-00-00-00-00-02", "0:0:0:0:0:2", "00:00:00:00:00:0g",
                                     "00:00:00:00:00:02 " };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    parse("-c/dev/null", "--mac", bad[i], NULL);
    ck_assert_int_eq(r.status, OPTIONS_ERROR);
    tl_assert_contains(r.err, "is not a MAC address (expected six two-digit hex numbers "
                              "separated by colons, as in 00:00:00:00:00:02)\n");
  }
  parse("-c/dev/null", "--mac", "00:00:00:00:00:00", NULL);
  assert_refused("iapd: --mac 00:00:00:00:00:00 is all zeros, which no station may use "
                 "(use one as in 00:00:00:00:00:02)\n");
}
END_TEST

START_TEST(test_multicast_mac)
{
  parse("-c/dev/null", "--mac", "01:00:5e:00:00:01", NULL);
  assert_refused("iapd: --mac 01:00:5e:00:00:01 is a multicast address (the low bit of the "
                 "first octet is set; use an even first octet, as in 02:00:00:00:00:01)\n");
  parse("-c/dev/null", "--mac", "ff:ff:ff:ff:ff:ff", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  ck_assert_int_eq(parse("-c/dev/null", "--mac", "02:00:00:00:00:01", NULL), OPTIONS_OK);
}
END_TEST

START_TEST(test_user_flash_not_sector_start)
{
  parse("-c/dev/null", "--user-flash", "0x08010100", NULL);
  assert_refused("iapd: --user-flash 0x08010100 is not the start of a flash sector (sector 4 "
                 "starts at 0x08010000)\n");
  parse("-c/dev/null", "--user-flash", "0x080FFFFF", NULL);
  assert_refused("iapd: --user-flash 0x080FFFFF is not the start of a flash sector (sector 11 "
                 "starts at 0x080e0000)\n");
}
END_TEST

START_TEST(test_user_flash_sector_0)
{
  parse("-c/dev/null", "--user-flash", "0x08000000", NULL);
  assert_refused("iapd: --user-flash 0x08000000 is in sector 0, which holds the bootloader "
                 "(expected the start of sector 1 to 11; sector 1 starts at 0x08004000)\n");
  parse("-c/dev/null", "--user-flash", "0x08000200", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  tl_assert_contains(r.err, "is in sector 0");
}
END_TEST

START_TEST(test_user_flash_outside)
{
  parse("-c/dev/null", "--user-flash", "0x08100000", NULL);
  assert_refused("iapd: --user-flash 0x08100000 is outside the flash (0x08000000 to "
                 "0x080fffff)\n");
  parse("-c/dev/null", "--user-flash", "0x20000000", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
}
END_TEST

START_TEST(test_user_flash_not_a_number)
{
  static const char *const bad[] = { "0x", "sector4", "0x0801000g", "-134283264",
                                     "0x108010000", "134283264k", "" };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    parse("-c/dev/null", "--user-flash", bad[i], NULL);
    ck_assert_int_eq(r.status, OPTIONS_ERROR);
    tl_assert_contains(r.err, "is not an address (expected hex with 0x, as in 0x08010000, "
                              "or decimal)\n");
  }
}
END_TEST

START_TEST(test_bad_tap)
{
  parse("-c/dev/null", "--tap", "a-sixteen-chars!", NULL);
  assert_refused("iapd: --tap a-sixteen-chars! is longer than 15 characters, the kernel's "
                 "limit for interface names\n");
  ck_assert_int_eq(parse("-c/dev/null", "--tap", "fifteen-chars!!", NULL), OPTIONS_OK);
  ck_assert_str_eq(r.o.tap, "fifteen-chars!!");
  parse("-c/dev/null", "--tap", "a/b", NULL);
  assert_refused("iapd: --tap a/b is not an interface name (expected no '/', ':' or blanks, "
                 "as in iapd0)\n");
  parse("-c/dev/null", "--tap", "..", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  parse("-c/dev/null", "--tap", "", NULL);
  assert_refused("iapd: --tap '' is empty (expected a device name, as in iapd0)\n");
}
END_TEST

START_TEST(test_bad_host_addr)
{
  parse("-c/dev/null", "--host-addr", "192.168.0.1", NULL);
  assert_refused("iapd: --host-addr 192.168.0.1 is not ADDR/PREFIX or none (expected as in "
                 "192.168.0.1/24)\n");
  parse("-c/dev/null", "--host-addr", "192.168.0.1/33", NULL);
  assert_refused("iapd: --host-addr 192.168.0.1/33 has no valid prefix length (expected /1 "
                 "to /32 after the address, as in 192.168.0.1/24)\n");
  parse("-c/dev/null", "--host-addr", "192.168.0.1/", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  parse("-c/dev/null", "--host-addr", "192.168.0.1/0", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  parse("-c/dev/null", "--host-addr", "192.168.0/24", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  tl_assert_contains(r.err, "is not an IPv4 address");
}
END_TEST

START_TEST(test_empty_flash_path)
{
  parse("-c/dev/null", "--flash", "", NULL);
  assert_refused("iapd: --flash '' is empty (expected a file name)\n");
}
END_TEST

START_TEST(test_unknown_option)
{
  parse("-c/dev/null", "--bogus", NULL);
  assert_refused("iapd: unknown or ambiguous option --bogus (see iapd --help)\n");
  parse("-c/dev/null", "-x", NULL);
  assert_refused("iapd: unknown option -x (see iapd --help)\n");
  /* --f could be --foreground or --flash. */
  parse("-c/dev/null", "--f", NULL);
  assert_refused("iapd: unknown or ambiguous option --f (see iapd --help)\n");
}
END_TEST

START_TEST(test_missing_value)
{
  parse("-c/dev/null", "--ip", NULL);
  assert_refused("iapd: --ip needs a value: --ip ADDR\n");
  parse("-c/dev/null", "-t", NULL);
  assert_refused("iapd: -t needs a value: -t NAME\n");
  parse("-c/dev/null", "--tap", NULL);
  assert_refused("iapd: --tap needs a value: --tap NAME\n");
}
END_TEST

START_TEST(test_value_on_flag)
{
  parse("-c/dev/null", "--key=yes", NULL);
  assert_refused("iapd: --key takes no value\n");
}
END_TEST

START_TEST(test_operand)
{
  parse("-c/dev/null", "-f", "app.bin", NULL);
  assert_refused("iapd: unexpected argument 'app.bin' (iapd takes options only; see iapd "
                 "--help)\n");
}
END_TEST

START_TEST(test_clashes)
{
  parse("-c/dev/null", "--ip", "192.168.0.1", "--gateway", "0.0.0.0", NULL);
  assert_refused("iapd: the board address (ip) 192.168.0.1 is also the host side address of "
                 "the TAP (host-addr, by default); give them different addresses, or use "
                 "host-addr none\n");
  ck_assert_int_eq(parse("-c/dev/null", "--ip", "192.168.0.1", "--gateway", "0.0.0.0",
                         "--host-addr", "none", NULL), OPTIONS_OK);
  parse("-c/dev/null", "--ip", "192.168.0.1", "--host-addr", "192.168.0.2/24", NULL);
  assert_refused("iapd: the gateway 192.168.0.1 is the board's own address (ip); use the "
                 "host's address, or 0.0.0.0 for none\n");
}
END_TEST

/* --- user-mode networking -------------------------------------------------------------- */

/* forward i is exactly this one, in the form --forward takes. */
static void assert_forward(unsigned i, const char *text)
{
  char got[64];
  ck_assert_uint_lt(i, r.o.forward_count);
  options_forward_text(&r.o.forwards[i], got, sizeof(got));
  ck_assert_str_eq(got, text);
}

START_TEST(test_user_net_default_forwards)
{
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", NULL), OPTIONS_OK);
  ck_assert_str_eq(r.err, "");
  ck_assert(r.o.user_net);
  ck_assert_uint_eq(r.o.forward_count, 2);
  ck_assert(r.o.forwards[0].udp);
  assert_ip(r.o.forwards[0].host_addr, 127, 0, 0, 1);
  ck_assert_uint_eq(r.o.forwards[0].host_port, 6969);
  ck_assert_uint_eq(r.o.forwards[0].board_port, 69);
  ck_assert(!r.o.forwards[1].udp);
  assert_ip(r.o.forwards[1].host_addr, 127, 0, 0, 1);
  ck_assert_uint_eq(r.o.forwards[1].host_port, 8080);
  ck_assert_uint_eq(r.o.forwards[1].board_port, 80);
  /* The board's addresses stay the static defaults: slirp's network is built around them. */
  assert_ip(r.o.ip, 192, 168, 0, 10);
  assert_ip(r.o.gateway, 192, 168, 0, 1);

  /* Only for the services that run. */
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--no-http", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.forward_count, 1);
  assert_forward(0, "udp:127.0.0.1:6969:69");
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--no-tftp", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.forward_count, 1);
  assert_forward(0, "tcp:127.0.0.1:8080:80");
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--no-tftp", "--no-http", NULL),
                   OPTIONS_OK);
  ck_assert_uint_eq(r.o.forward_count, 0);
}
END_TEST

START_TEST(test_forward_forms)
{
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--forward", "udp:16969:69",
                         "--forward", "tcp:0.0.0.0:8080:80", "--forward",
                         "tcp:10.1.2.3:65535:1", "--forward", "udp:1:65535", NULL),
                   OPTIONS_OK);
  ck_assert_str_eq(r.err, "");
  /* Given forwards replace the defaults altogether. */
  ck_assert_uint_eq(r.o.forward_count, 4);
  assert_forward(0, "udp:127.0.0.1:16969:69");
  assert_forward(1, "tcp:0.0.0.0:8080:80");
  assert_forward(2, "tcp:10.1.2.3:65535:1");
  assert_forward(3, "udp:127.0.0.1:1:65535");
  ck_assert(r.o.forwards[0].udp);
  ck_assert(!r.o.forwards[1].udp);

  /* The same host port on two protocols is two sockets. */
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--forward", "udp:7000:69",
                         "--forward", "tcp:7000:80", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.forward_count, 2);
}
END_TEST

/* --forward TEXT is refused with exactly: iapd: --forward TEXT WHY (expected ...). */
static void assert_forward_refused(const char *text, const char *why)
{
  char expected[512];

  parse("-c/dev/null", "--user-net", "--forward", text, NULL);
  snprintf(expected, sizeof(expected), "iapd: --forward %s %s (expected "
           "udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT, as in udp:127.0.0.1:6969:69)\n", text, why);
  assert_refused(expected);
}

START_TEST(test_forward_malformed)
{
  assert_forward_refused("udp:6969", "has no board port");
  assert_forward_refused("udp", "has no host port and no board port");
  assert_forward_refused("sctp:6969:69", "has a bad protocol 'sctp', not udp or tcp");
  assert_forward_refused("UDP:6969:69", "has a bad protocol 'UDP', not udp or tcp");
  assert_forward_refused("6969:69", "has a bad protocol '6969', not udp or tcp");
  assert_forward_refused(":6969:69", "has a bad protocol '', not udp or tcp");
  assert_forward_refused("udp:0:69", "has a bad host port '0', not a number from 1 to 65535");
  assert_forward_refused("udp:65536:69",
                         "has a bad host port '65536', not a number from 1 to 65535");
  assert_forward_refused("udp:+69:69",
                         "has a bad host port '+69', not a number from 1 to 65535");
  assert_forward_refused("udp:6969:0",
                         "has a bad board port '0', not a number from 1 to 65535");
  assert_forward_refused("udp:6969:65536",
                         "has a bad board port '65536', not a number from 1 to 65535");
  assert_forward_refused("udp:6969:", "has a bad board port '', not a number from 1 to 65535");
  assert_forward_refused("udp:6969:tftp",
                         "has a bad board port 'tftp', not a number from 1 to 65535");
  assert_forward_refused("tcp:1.2.3:8080:80", "has a bad host address '1.2.3', not an IPv4 "
                         "address");
  assert_forward_refused("tcp:localhost:8080:80", "has a bad host address 'localhost', not an "
                         "IPv4 address");
  assert_forward_refused("tcp::8080:80", "has an empty host address");
  assert_forward_refused("tcp:127.0.0.1:8080:80:1", "has too many ':'-separated parts");
  assert_forward_refused("udp:127.0.0.1:6969:69:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "is too long");
}
END_TEST

START_TEST(test_forward_at_most_16)
{
  char text[1024] = "user-net = yes\n", expected[512];

  for (int i = 0; i < 16; i++)
    snprintf(text + strlen(text), sizeof(text) - strlen(text), "forward = udp:%d:69\n",
             7000 + i);
  write_conf(text);
  ck_assert_int_eq(parse("-c", conf_path, NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.forward_count, 16);
  assert_forward(15, "udp:127.0.0.1:7015:69");

  strcat(text, "forward = udp:7016:69\n");
  write_conf(text);
  parse("-c", conf_path, NULL);
  snprintf(expected, sizeof(expected), "%s:18: bad value for forward: udp:7016:69 is one "
           "forward too many (at most 16)\n", conf_path);
  assert_refused(expected);
}
END_TEST

START_TEST(test_user_net_clashes)
{
  parse("-c/dev/null", "--user-net", "--tap", "tap0", NULL);
  assert_refused("iapd: user-net and tap tap0 both set: the board has one Ethernet port; use "
                 "user-net without privileges, tap for a TAP device\n");
  parse("-c/dev/null", "--attach", "veth1", "--user-net", NULL);
  assert_refused("iapd: user-net and attach veth1 both set: the board has one Ethernet port; "
                 "use user-net without privileges, attach for an existing interface\n");
  parse("-c/dev/null", "--user-net", "--host-addr", "192.168.0.1/24", NULL);
  assert_refused("iapd: host-addr applies to a TAP device, not to user-net: there the host is "
                 "slirp, at the board's gateway address (gateway)\n");
  parse("-c/dev/null", "--user-net", "--host-addr", "none", NULL);
  assert_refused("iapd: host-addr applies to a TAP device, not to user-net: there the host is "
                 "slirp, at the board's gateway address (gateway)\n");
  parse("-c/dev/null", "--forward", "udp:6969:69", NULL);
  assert_refused("iapd: forward udp:127.0.0.1:6969:69 needs user-net: on a TAP or an attached "
                 "interface the host reaches the board at the board's own address\n");
  parse("-c/dev/null", "--user-net", "--gateway", "0.0.0.0", NULL);
  assert_refused("iapd: user-net needs a gateway: slirp, the host on the board's network, "
                 "takes its address (give one on 192.168.0.0/24, as in gateway = "
                 "192.168.0.1)\n");
  parse("-c/dev/null", "--user-net", "--gateway", "10.0.0.1", NULL);
  assert_refused("iapd: with user-net the gateway 10.0.0.1 must be on the board's network "
                 "192.168.0.0/24: slirp, the host there, takes the gateway's address\n");
  parse("-c/dev/null", "--user-net", "--dhcp", "--netmask", "255.255.255.240", NULL);
  assert_refused("iapd: dhcp with user-net needs a board network of 32 addresses or more "
                 "(netmask 255.255.255.224 or shorter, not /28): slirp's DHCP server leases "
                 "16 addresses from host number 15 of the network\n");
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--dhcp", "--netmask",
                         "255.255.255.224", NULL), OPTIONS_OK);
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--netmask", "255.255.255.240", NULL),
                   OPTIONS_OK);
  parse("-c/dev/null", "--user-net", "--forward", "udp:6969:69", "--forward",
        "udp:0.0.0.0:6969:70", NULL);
  assert_refused("iapd: forward udp:127.0.0.1:6969:69 and forward udp:0.0.0.0:6969:70 both "
                 "take host port 6969/udp\n");
  parse("-c/dev/null", "--user-net", "--forward", "tcp:8080:80", "--forward", "tcp:8080:81",
        NULL);
  assert_refused("iapd: forward tcp:127.0.0.1:8080:80 and forward tcp:127.0.0.1:8080:81 both "
                 "take host port 8080/tcp\n");
  /* Another address of this host, another socket. */
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--forward", "tcp:8080:80",
                         "--forward", "tcp:127.0.0.2:8080:80", NULL), OPTIONS_OK);
  /* A network of its own, with the gateway on it. */
  ck_assert_int_eq(parse("-c/dev/null", "--user-net", "--ip", "10.7.0.20", "--gateway",
                         "10.7.0.254", NULL), OPTIONS_OK);
}
END_TEST

START_TEST(test_user_net_config)
{
  write_conf("user-net = yes\nforward = udp:7000:69\nforward = tcp:0.0.0.0:7001:80\n");
  ck_assert_int_eq(parse("-c", conf_path, NULL), OPTIONS_OK);
  ck_assert(r.o.user_net);
  ck_assert_uint_eq(r.o.forward_count, 2);
  assert_forward(0, "udp:127.0.0.1:7000:69");
  assert_forward(1, "tcp:0.0.0.0:7001:80");

  /* Forwards on the command line replace the file's list. */
  ck_assert_int_eq(parse("-c", conf_path, "--forward", "udp:7002:69", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.forward_count, 1);
  assert_forward(0, "udp:127.0.0.1:7002:69");

  /* tap on the command line replaces the file's user-net, and needs no forwards. */
  write_conf("user-net = yes\n");
  ck_assert_int_eq(parse("-c", conf_path, "--tap", "tap0", NULL), OPTIONS_OK);
  ck_assert(!r.o.user_net);
  ck_assert_uint_eq(r.o.forward_count, 0);
  /* ... and user-net on the command line replaces the file's tap or attach. */
  write_conf("tap = tapconf\n");
  ck_assert_int_eq(parse("-c", conf_path, "--user-net", NULL), OPTIONS_OK);
  ck_assert(r.o.user_net);
  ck_assert(!r.o.tap_given);
  write_conf("attach = veth1\n");
  ck_assert_int_eq(parse("-c", conf_path, "--user-net", NULL), OPTIONS_OK);
  ck_assert_str_eq(r.o.attach, "");

  /* Both in one file: refused. */
  write_conf("user-net = yes\ntap = tapconf\n");
  parse("-c", conf_path, NULL);
  assert_refused("iapd: user-net and tap tapconf both set: the board has one Ethernet port; "
                 "use user-net without privileges, tap for a TAP device\n");

  write_conf("user-net = maybe\nforward = udp:6969\n");
  parse("-c", conf_path, NULL);
  char expected[1024];
  snprintf(expected, sizeof(expected),
           "%s:1: bad value for user-net: maybe is not a boolean (expected yes, no, true, "
           "false, 1 or 0)\n"
           "%s:2: bad value for forward: udp:6969 has no board port (expected "
           "udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT, as in udp:127.0.0.1:6969:69)\n",
           conf_path, conf_path);
  assert_refused(expected);
}
END_TEST

/* --- help and version ----------------------------------------------------------------- */

START_TEST(test_help)
{
  static const char *const names[] = { "--foreground", "--config FILE", "--tap NAME",
                                       "--host-addr ADDR/PREFIX|none", "--flash FILE",
                                       "--ip ADDR", "--netmask ADDR", "--gateway ADDR",
                                       "--mac XX:XX:XX:XX:XX:XX", "--user-flash ADDR",
                                       "--key", "--exit-on-jump", "--no-tftp", "--verbose",
                                       "--version", "--help", "--user-net",
                                       "--forward udp|tcp:[HOSTADDR:]HOSTPORT:BOARDPORT" };

  ck_assert_int_eq(parse("--help", NULL), OPTIONS_EXIT);
  ck_assert_str_eq(r.err, "");
  ck_assert_ptr_eq(strstr(r.out, "Usage: iapd [OPTION]...\n"), r.out);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    ck_assert_msg(strstr(r.out, names[i]) != NULL, "--help does not show %s", names[i]);
  tl_assert_contains(r.out, "  -f, --foreground         stay in the foreground");
  tl_assert_contains(r.out, SYSCONFDIR "/iapd.conf");

  /* Under 80 columns, measured with the configuration file at /etc/iapd.conf: the path
   * configure gives (SYSCONFDIR) is as long as the install prefix, which the text cannot
   * help (make distcheck installs under a long temporary one). */
  const long prefix_extra = (long)strlen(SYSCONFDIR) - (long)strlen("/etc");
  for (const char *line = r.out; *line != '\0';) {
    const char *end = strchr(line, '\n');
    ck_assert_ptr_nonnull(end);
    long width = end - line;
    const char *path = strstr(line, SYSCONFDIR "/iapd.conf");
    if (path != NULL && path < end)
      width -= prefix_extra;
    ck_assert_msg(width < 80, "--help line of 80 columns or more: %.*s", (int)(end - line),
                  line);
    line = end + 1;
  }

  ck_assert_int_eq(parse("-h", NULL), OPTIONS_EXIT);
  ck_assert_ptr_eq(strstr(r.out, "Usage: iapd"), r.out);
}
END_TEST

/* --help answers before the configuration file is read, even a missing one. */
START_TEST(test_help_ignores_config)
{
  ck_assert_int_eq(parse("--config", "/nonexistent/iapd.conf", "--help", NULL), OPTIONS_EXIT);
  ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(test_version)
{
  ck_assert_int_eq(parse("--version", NULL), OPTIONS_EXIT);
  ck_assert_str_eq(r.out, "iapd " PACKAGE_VERSION "\nlwIP 2.1.3\n");
  ck_assert_str_eq(r.err, "");
  ck_assert_int_eq(parse("-V", NULL), OPTIONS_EXIT);
  ck_assert_str_eq(r.out, "iapd " PACKAGE_VERSION "\nlwIP 2.1.3\n");
}
END_TEST

/* --- the configuration file ----------------------------------------------------------- */

START_TEST(test_config_applied)
{
  static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };

  write_conf("# iapd test configuration\n"
             "\n"
             "foreground = yes\n"
             "  tap=tapconf   \n"
             "host-addr = 10.9.0.1/24\n"
             "flash = /var/tmp/board.bin   # a comment after a blank\n"
             "ip = 10.9.0.10\n"
             "netmask = 255.255.255.128\n"
             "gateway = 10.9.0.1\n"
             "mac = 02:00:00:00:00:42\n"
             "user_flash = 0x08020000\r\n"
             "key = true\n"
             "exit-on-jump = 1\n"
             "tftp = no\n"
             "verbose = 2\n");
  ck_assert_int_eq(parse("--config", conf_path, NULL), OPTIONS_OK);
  ck_assert_str_eq(r.err, "");
  ck_assert_str_eq(r.o.config_path, conf_path);
  ck_assert(r.o.foreground);
  ck_assert_str_eq(r.o.tap, "tapconf");
  ck_assert_int_eq(r.o.host_addr_mode, HOST_ADDR_SET);
  assert_ip(r.o.host_addr, 10, 9, 0, 1);
  ck_assert_str_eq(r.o.flash_path, "/var/tmp/board.bin");
  assert_ip(r.o.ip, 10, 9, 0, 10);
  assert_ip(r.o.netmask, 255, 255, 255, 128);
  assert_ip(r.o.gateway, 10, 9, 0, 1);
  ck_assert_mem_eq(r.o.mac, mac, 6);
  ck_assert_uint_eq(r.o.user_flash, 0x08020000u);
  ck_assert(r.o.key);
  ck_assert(r.o.exit_on_jump);
  ck_assert(!r.o.tftp);
  ck_assert_int_eq(r.o.verbose, 2);
}
END_TEST

START_TEST(test_config_booleans)
{
  write_conf("foreground = YES\nkey = false\nexit-on-jump = 0\ntftp = True\n");
  ck_assert_int_eq(parse("-c", conf_path, NULL), OPTIONS_OK);
  ck_assert(r.o.foreground);
  ck_assert(!r.o.key);
  ck_assert(!r.o.exit_on_jump);
  ck_assert(r.o.tftp);
}
END_TEST

START_TEST(test_command_line_wins)
{
  write_conf("ip = 10.9.0.10\ntap = tapconf\nverbose = 2\ntftp = yes\nhost-addr = none\n");
  ck_assert_int_eq(parse("--ip", "10.9.0.11", "-c", conf_path, "-v", "--no-tftp",
                         "--host-addr", "10.9.0.1/24", NULL), OPTIONS_OK);
  assert_ip(r.o.ip, 10, 9, 0, 11);
  ck_assert_str_eq(r.o.tap, "tapconf");
  ck_assert_int_eq(r.o.verbose, 1); /* -v replaces the file's level */
  ck_assert(!r.o.tftp);
  ck_assert_int_eq(r.o.host_addr_mode, HOST_ADDR_SET);
}
END_TEST

/* The HTTP server's settings: defaults (AN3376's user/stm32), both sources, refusals. */
START_TEST(test_http_options)
{
  ck_assert_int_eq(parse("-c/dev/null", NULL), OPTIONS_OK);
  ck_assert(r.o.http);
  ck_assert_str_eq(r.o.http_user, "user");
  ck_assert_str_eq(r.o.http_password, "stm32");
  ck_assert_uint_eq(r.o.http_session_timeout, 600);

  ck_assert_int_eq(parse("-c/dev/null", "--no-http", "--http-user", "admin",
                         "--http-password", "p:w d", "--http-session-timeout", "30", NULL),
                   OPTIONS_OK);
  ck_assert(!r.o.http);
  ck_assert_str_eq(r.o.http_user, "admin");
  ck_assert_str_eq(r.o.http_password, "p:w d");
  ck_assert_uint_eq(r.o.http_session_timeout, 30);

  write_conf("http = no\nhttp-user = boss\nhttp-password = hunter22\n"
             "http_session_timeout = 86400\n");
  ck_assert_int_eq(parse("-c", conf_path, "--http-user", "cli", NULL), OPTIONS_OK);
  ck_assert(!r.o.http);
  ck_assert_str_eq(r.o.http_user, "cli");  /* the command line wins */
  ck_assert_str_eq(r.o.http_password, "hunter22");
  ck_assert_uint_eq(r.o.http_session_timeout, 86400);

  ck_assert_int_eq(parse("-c/dev/null", "--http-user", "a:b", NULL), OPTIONS_ERROR);
  ck_assert_str_eq(r.err, "iapd: --http-user a:b holds a ':', which HTTP Basic auth cannot "
                   "carry in a user ID\n");
  ck_assert_int_eq(parse("-c/dev/null", "--http-password", "", NULL), OPTIONS_ERROR);
  ck_assert_str_eq(r.err, "iapd: --http-password '' is not 1 to 64 characters\n");
  ck_assert_int_eq(parse("-c/dev/null", "--http-session-timeout", "0", NULL), OPTIONS_ERROR);
  ck_assert_str_eq(r.err, "iapd: --http-session-timeout 0 is not a number of seconds from 1 "
                   "to 86400\n");
  ck_assert_int_eq(parse("-c/dev/null", "--http-session-timeout", "86401", NULL),
                   OPTIONS_ERROR);
  write_conf("no-http = yes\n");
  ck_assert_int_eq(parse("-c", conf_path, NULL), OPTIONS_ERROR);
  ck_assert_ptr_nonnull(strstr(r.err, "(write 'http = no')"));
}
END_TEST

/* DHCP and how long it may take before the static address: default 10 s, as the firmware's
 * DHCP_FALLBACK_MS; both sources; refusals. */
START_TEST(test_dhcp_options)
{
  ck_assert_int_eq(parse("-c/dev/null", NULL), OPTIONS_OK);
  ck_assert(!r.o.dhcp);
  ck_assert_uint_eq(r.o.dhcp_timeout, 10);

  ck_assert_int_eq(parse("-c/dev/null", "--dhcp", "--dhcp-timeout", "3", NULL), OPTIONS_OK);
  ck_assert(r.o.dhcp);
  ck_assert_uint_eq(r.o.dhcp_timeout, 3);

  write_conf("dhcp = yes\ndhcp-timeout = 45\n");
  ck_assert_int_eq(parse("-c", conf_path, NULL), OPTIONS_OK);
  ck_assert(r.o.dhcp);
  ck_assert_uint_eq(r.o.dhcp_timeout, 45);
  ck_assert_int_eq(parse("-c", conf_path, "--dhcp-timeout", "2", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.dhcp_timeout, 2);  /* the command line wins */

  ck_assert_int_eq(parse("-c/dev/null", "--dhcp-timeout", "0", NULL), OPTIONS_ERROR);
  ck_assert_str_eq(r.err, "iapd: --dhcp-timeout 0 is not a number of seconds from 1 to "
                   "86400\n");
  ck_assert_int_eq(parse("-c/dev/null", "--dhcp-timeout", "ten", NULL), OPTIONS_ERROR);
  ck_assert_str_eq(r.err, "iapd: --dhcp-timeout ten is not a number of seconds from 1 to "
                   "86400\n");
}
END_TEST

/* The TFTP option limits: both sources, the bounds, and refusals that say the range. */
START_TEST(test_tftp_options)
{
  ck_assert_int_eq(parse("-c/dev/null", "--tftp-max-blksize", "512", "--tftp-max-windowsize",
                         "16", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.tftp_max_blksize, 512);
  ck_assert_uint_eq(r.o.tftp_max_windowsize, 16);
  ck_assert_int_eq(parse("-c/dev/null", "--tftp-max-blksize", "8", "--tftp-max-windowsize",
                         "1", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.tftp_max_blksize, 8);
  ck_assert_uint_eq(r.o.tftp_max_windowsize, 1);
  ck_assert_int_eq(parse("-c/dev/null", "--tftp-max-blksize=1468", "--tftp-max-windowsize",
                         "65535", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.tftp_max_blksize, 1468);
  ck_assert_uint_eq(r.o.tftp_max_windowsize, 65535);

  write_conf("tftp-max-blksize = 1024\ntftp_max_windowsize = 4\n");
  ck_assert_int_eq(parse("-c", conf_path, "--tftp-max-windowsize", "8", NULL), OPTIONS_OK);
  ck_assert_uint_eq(r.o.tftp_max_blksize, 1024);
  ck_assert_uint_eq(r.o.tftp_max_windowsize, 8);  /* the command line wins */

  static const char *const bad_blksize[] = { "7", "1469", "0", "65464", "0x200", "", "-8",
                                             "512 ", "1k" };
  for (size_t i = 0; i < sizeof(bad_blksize) / sizeof(bad_blksize[0]); i++) {
    char want[256];
    parse("-c/dev/null", "--tftp-max-blksize", bad_blksize[i], NULL);
    snprintf(want, sizeof(want), "iapd: --tftp-max-blksize %s%s%s is not a block size from 8 "
             "to 1468 bytes (8 is RFC 2348's smallest, 1468 what one Ethernet frame "
             "carries)\n", strpbrk(bad_blksize[i], " ") || !*bad_blksize[i] ? "'" : "",
             bad_blksize[i], strpbrk(bad_blksize[i], " ") || !*bad_blksize[i] ? "'" : "");
    assert_refused(want);
  }
  static const char *const bad_window[] = { "0", "65536", "x", "0x10", "4294967297" };
  for (size_t i = 0; i < sizeof(bad_window) / sizeof(bad_window[0]); i++) {
    char want[256];
    parse("-c/dev/null", "--tftp-max-windowsize", bad_window[i], NULL);
    snprintf(want, sizeof(want), "iapd: --tftp-max-windowsize %s is not a number of blocks "
             "from 1 to 65535 (RFC 7440)\n", bad_window[i]);
    assert_refused(want);
  }
  char want[512];
  write_conf("tftp-max-blksize = 2048\ntftp-max-windowsize = 0\n");
  parse("-c", conf_path, NULL);
  snprintf(want, sizeof(want),
           "%1$s:1: bad value for tftp-max-blksize: 2048 is not a block size from 8 to 1468 "
           "bytes (8 is RFC 2348's smallest, 1468 what one Ethernet frame carries)\n"
           "%1$s:2: bad value for tftp-max-windowsize: 0 is not a number of blocks from 1 to "
           "65535 (RFC 7440)\n", conf_path);
  assert_refused(want);
}
END_TEST

/* --- slots ----------------------------------------------------------------------------- */

START_TEST(test_slots)
{
  ck_assert_int_eq(parse("-c/dev/null", "--slots", "swap", "--user-flash", "0x08020000", NULL),
                   OPTIONS_OK);
  ck_assert_int_eq(r.o.slots, IAP_SLOTS_SWAP);
  ck_assert_uint_eq(r.o.user_flash, 0x08020000u);
  ck_assert_int_eq(parse("-c/dev/null", "--slots", "dual", NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.slots, IAP_SLOTS_DUAL);
  parse("-c/dev/null", "--slots", "swap", NULL);
  assert_refused("iapd: slots swap pairs sectors of one size: sector 4 at 0x08010000 is 64 KiB "
                 "and sector 5 is 128 KiB; start the user flash at 0x08020000 (a 128 KiB "
                 "bootloader area)\n");
  parse("-c/dev/null", "--slots", "swap", "--user-flash", "0x080c0000", NULL);
  assert_refused("iapd: slots swap needs three sectors of user flash or more (two slots and a "
                 "scratch); user flash 0x080c0000 has 2\n");
  parse("-c/dev/null", "--slots", "triple", NULL);
  assert_refused("iapd: --slots triple is not a slot layout (expected single, dual or swap)\n");
}
END_TEST

/* --- the silicon model: timing and power cuts -------------------------------------------- */

START_TEST(test_silicon_options)
{
  ck_assert_int_eq(parse("-c/dev/null", "--flash-timing", "typical", "--flash-timing-scale",
                         "0.01", "--power-cut-at-op", "17", "--power-cut-mode", "clean",
                         "--seed", "18446744073709551615", NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.flash_timing, FLASH_TIMING_TYPICAL);
  ck_assert(r.o.flash_timing_scale == 0.01);
  ck_assert_uint_eq(r.o.power_cut_at_op, 17);
  ck_assert_int_eq(r.o.power_cut_mode, FLASH_CUT_CLEAN);
  ck_assert(r.o.seed == UINT64_MAX);
  ck_assert_int_eq(parse("-c/dev/null", "--flash-timing", "max", "--flash-timing-scale", "2",
                         "--power-cut-at-op", "4294967295", "--power-cut-mode", "torn",
                         NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.flash_timing, FLASH_TIMING_MAX);
  ck_assert(r.o.flash_timing_scale == 2.0);
  ck_assert_uint_eq(r.o.power_cut_at_op, 4294967295u);
  ck_assert_int_eq(r.o.power_cut_mode, FLASH_CUT_TORN);
  ck_assert_int_eq(parse("-c/dev/null", "--flash-timing", "none", "--flash-timing-scale",
                         "1000", NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.flash_timing, FLASH_TIMING_NONE);
  ck_assert(r.o.flash_timing_scale == 1000.0);

  write_conf("flash-timing = max\nflash_timing_scale = 0.5\npower-cut-at-op = 3\n"
             "power-cut-mode = clean\nseed = 42\n");
  ck_assert_int_eq(parse("-c", conf_path, "--power-cut-at-op", "9", NULL), OPTIONS_OK);
  ck_assert_int_eq(r.o.flash_timing, FLASH_TIMING_MAX);
  ck_assert(r.o.flash_timing_scale == 0.5);
  ck_assert_uint_eq(r.o.power_cut_at_op, 9);  /* the command line wins */
  ck_assert_int_eq(r.o.power_cut_mode, FLASH_CUT_CLEAN);
  ck_assert_uint_eq(r.o.seed, 42);
}
END_TEST

START_TEST(test_silicon_refusals)
{
  parse("-c/dev/null", "--flash-timing", "fast", NULL);
  assert_refused("iapd: --flash-timing fast is not a flash timing (expected none, typical "
                 "or max)\n");
  parse("-c/dev/null", "--flash-timing", "Typical", NULL);
  assert_refused("iapd: --flash-timing Typical is not a flash timing (expected none, typical "
                 "or max)\n");
  static const char *const bad_scales[] = { "-1", "0", "0.0", "-0.5", "1001", "1e2", "nan",
                                            "inf", "", ".", "1.2.3", "0x10", " 1", "2 " };
  for (size_t i = 0; i < sizeof(bad_scales) / sizeof(bad_scales[0]); i++) {
    char want[256];
    const char *v = bad_scales[i];
    bool quote = v[0] == '\0' || strchr(v, ' ') != NULL;
    parse("-c/dev/null", "--flash-timing-scale", v, NULL);
    snprintf(want, sizeof(want), "iapd: --flash-timing-scale %s%s%s is not a scale factor "
             "(expected a number greater than 0 and at most 1000, as in 0.01 or 2)\n",
             quote ? "'" : "", v, quote ? "'" : "");
    assert_refused(want);
  }
  static const char *const bad_ops[] = { "0", "-1", "4294967296", "1.5", "0x10", "seven", "" };
  for (size_t i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++) {
    char want[256];
    const char *v = bad_ops[i];
    parse("-c/dev/null", "--power-cut-at-op", v, NULL);
    snprintf(want, sizeof(want), "iapd: --power-cut-at-op %s%s%s is not a flash operation "
             "number (expected 1 to 4294967295: operations count from 1 at power-on)\n",
             v[0] ? "" : "'", v, v[0] ? "" : "'");
    assert_refused(want);
  }
  parse("-c/dev/null", "--power-cut-mode", "half", NULL);
  assert_refused("iapd: --power-cut-mode half is not a power cut mode (expected torn or "
                 "clean)\n");
  parse("-c/dev/null", "--seed", "18446744073709551616", NULL);
  assert_refused("iapd: --seed 18446744073709551616 is not a seed (expected a number from 0 "
                 "to 18446744073709551615)\n");
  parse("-c/dev/null", "--seed", "-3", NULL);
  assert_refused("iapd: --seed -3 is not a seed (expected a number from 0 to "
                 "18446744073709551615)\n");

  char want[512];
  write_conf("flash-timing-scale = -2\n");
  parse("-c", conf_path, NULL);
  snprintf(want, sizeof(want), "%s:1: bad value for flash-timing-scale: -2 is not a scale "
           "factor (expected a number greater than 0 and at most 1000, as in 0.01 or 2)\n",
           conf_path);
  assert_refused(want);
  write_conf("power-cut-at-op = 0\n");
  parse("-c", conf_path, NULL);
  snprintf(want, sizeof(want), "%s:1: bad value for power-cut-at-op: 0 is not a flash "
           "operation number (expected 1 to 4294967295: operations count from 1 at "
           "power-on)\n", conf_path);
  assert_refused(want);
}
END_TEST

START_TEST(test_config_unknown_key)
{
  char expected[1024];

  write_conf("ip = 10.9.0.10\n# comment\n\nport = 69\n");
  parse("-c", conf_path, NULL);
  snprintf(expected, sizeof(expected),
           "%s:4: unknown key 'port' (known keys: foreground, tap, attach, host-addr, "
           "user-net, forward, flash, flash-driver, boot-verify, signing-key, slots, flash-timing, "
           "flash-timing-scale, "
           "power-cut-at-op, power-cut-mode, seed, ip, netmask, gateway, mac, dhcp, "
           "dhcp-timeout, user-flash, key, exit-on-jump, tftp, tftp-max-blksize, "
           "tftp-max-windowsize, http, http-user, http-password, http-session-timeout, "
           "control, pcap, verbose)\n",
           conf_path);
  assert_refused(expected);
}
END_TEST

START_TEST(test_config_command_line_only_keys)
{
  char expected[512];

  write_conf("config = /etc/other.conf\nno-tftp = yes\n");
  parse("-c", conf_path, NULL);
  snprintf(expected, sizeof(expected),
           "%s:1: unknown key 'config' (--config exists on the command line only)\n"
           "%s:2: unknown key 'no-tftp' (write 'tftp = no')\n", conf_path, conf_path);
  assert_refused(expected);
}
END_TEST

START_TEST(test_config_bad_values)
{
  char expected[2048];

  write_conf("ip = 10.9.0\n"
             "mac = 01:00:00:00:00:01\n"
             "user-flash = 0x08010100\n"
             "key = maybe\n"
             "verbose = 10\n"
             "tap\n"
             "= 3\n");
  parse("-c", conf_path, NULL);
  snprintf(expected, sizeof(expected),
           "%1$s:1: bad value for ip: 10.9.0 is not an IPv4 address (expected four numbers "
           "from 0 to 255, as in 192.168.0.10)\n"
           "%1$s:2: bad value for mac: 01:00:00:00:00:01 is a multicast address (the low bit "
           "of the first octet is set; use an even first octet, as in 02:00:00:00:00:01)\n"
           "%1$s:3: bad value for user-flash: 0x08010100 is not the start of a flash sector "
           "(sector 4 starts at 0x08010000)\n"
           "%1$s:4: bad value for key: maybe is not a boolean (expected yes, no, true, false, "
           "1 or 0)\n"
           "%1$s:5: bad value for verbose: 10 is not a verbosity level (expected a number "
           "from 0 to 9)\n"
           "%1$s:6: expected 'key = value', found 'tap'\n"
           "%1$s:7: expected 'key = value', found no key before '='\n",
           conf_path);
  assert_refused(expected);
}
END_TEST

START_TEST(test_config_empty_value)
{
  char expected[512];

  write_conf("flash =\n");
  parse("-c", conf_path, NULL);
  snprintf(expected, sizeof(expected),
           "%s:1: bad value for flash: '' is empty (expected a file name)\n", conf_path);
  assert_refused(expected);
}
END_TEST

/* A bad file is refused even when the command line overrides the bad key. */
START_TEST(test_config_error_not_hidden_by_command_line)
{
  write_conf("ip = nowhere\n");
  parse("-c", conf_path, "--ip", "10.0.0.2", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  tl_assert_contains(r.err, ":1: bad value for ip: nowhere");
}
END_TEST

START_TEST(test_config_missing)
{
  char path[128], expected[512];

  snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
  parse("--config", path, NULL);
  snprintf(expected, sizeof(expected),
           "iapd: cannot open configuration file %s: No such file or directory (check the "
           "--config argument)\n", path);
  assert_refused(expected);
}
END_TEST

START_TEST(test_config_is_directory)
{
  parse("--config", tmpdir, NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  tl_assert_contains(r.err, "iapd: cannot read configuration file");
}
END_TEST

/* Command-line values are checked before the file is read, so their message comes alone. */
START_TEST(test_command_line_checked_first)
{
  write_conf("port = 69\n");
  parse("-c", conf_path, "--mac", "nope", NULL);
  ck_assert_int_eq(r.status, OPTIONS_ERROR);
  ck_assert_ptr_eq(strstr(r.err, "iapd: --mac nope is not a MAC address"), r.err);
  ck_assert_ptr_null(strstr(r.err, "port"));
}
END_TEST

/* fixtures/iapd.conf.example uses every key and changes nothing. TESTS_DIR comes from
 * make check; run by hand without it, the test has nothing to read and passes. */
START_TEST(test_example_config)
{
  const char *tests_dir = getenv("TESTS_DIR");
  char path[IAPD_PATH_MAX];

  if (tests_dir == NULL)
    return;
  snprintf(path, sizeof(path), "%s/../fixtures/iapd.conf.example", tests_dir);
  ck_assert_int_eq(parse("--config", path, NULL), OPTIONS_OK);
  ck_assert_str_eq(r.err, "");
  assert_defaults(&r.o);
}
END_TEST

static Suite *options_suite(void)
{
  Suite *s = suite_create("options");
  TCase *tc;

  tc = tcase_create("defaults");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_no_options_gives_defaults);
  suite_add_tcase(s, tc);

  tc = tcase_create("options");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_flags_long);
  tcase_add_test(tc, test_http_options);
  tcase_add_test(tc, test_tftp_options);
  tcase_add_test(tc, test_flags_short);
  tcase_add_test(tc, test_values);
  tcase_add_test(tc, test_short_values);
  tcase_add_test(tc, test_host_addr_none);
  tcase_add_test(tc, test_host_addr_prefix_32);
  tcase_add_test(tc, test_user_flash_every_sector);
  tcase_add_test(tc, test_gateway_none);
  tcase_add_test(tc, test_last_one_wins);
  tcase_add_test(tc, test_bundled_flags);
  tcase_add_test(tc, test_parse_twice);
  suite_add_tcase(s, tc);

  tc = tcase_create("refusals");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_bad_ip);
  tcase_add_test(tc, test_slots);
  tcase_add_test(tc, test_silicon_options);
  tcase_add_test(tc, test_silicon_refusals);
  tcase_add_test(tc, test_ip_not_unicast);
  tcase_add_test(tc, test_bad_gateway);
  tcase_add_test(tc, test_netmask_not_contiguous);
  tcase_add_test(tc, test_bad_mac);
  tcase_add_test(tc, test_multicast_mac);
  tcase_add_test(tc, test_user_flash_not_sector_start);
  tcase_add_test(tc, test_user_flash_sector_0);
  tcase_add_test(tc, test_user_flash_outside);
  tcase_add_test(tc, test_user_flash_not_a_number);
  tcase_add_test(tc, test_bad_tap);
  tcase_add_test(tc, test_bad_host_addr);
  tcase_add_test(tc, test_empty_flash_path);
  tcase_add_test(tc, test_unknown_option);
  tcase_add_test(tc, test_missing_value);
  tcase_add_test(tc, test_value_on_flag);
  tcase_add_test(tc, test_operand);
  tcase_add_test(tc, test_clashes);
  suite_add_tcase(s, tc);

  tc = tcase_create("user-net");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_user_net_default_forwards);
  tcase_add_test(tc, test_forward_forms);
  tcase_add_test(tc, test_forward_malformed);
  tcase_add_test(tc, test_forward_at_most_16);
  tcase_add_test(tc, test_user_net_clashes);
  tcase_add_test(tc, test_user_net_config);
  suite_add_tcase(s, tc);

  tc = tcase_create("help");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_help);
  tcase_add_test(tc, test_help_ignores_config);
  tcase_add_test(tc, test_version);
  suite_add_tcase(s, tc);

  tc = tcase_create("config");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_config_applied);
  tcase_add_test(tc, test_config_booleans);
  tcase_add_test(tc, test_command_line_wins);
  tcase_add_test(tc, test_dhcp_options);
  tcase_add_test(tc, test_config_unknown_key);
  tcase_add_test(tc, test_config_command_line_only_keys);
  tcase_add_test(tc, test_config_bad_values);
  tcase_add_test(tc, test_config_empty_value);
  tcase_add_test(tc, test_config_error_not_hidden_by_command_line);
  tcase_add_test(tc, test_config_missing);
  tcase_add_test(tc, test_config_is_directory);
  tcase_add_test(tc, test_command_line_checked_first);
  tcase_add_test(tc, test_example_config);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(options_suite());
  srunner_run_all(sr, CK_ENV);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
