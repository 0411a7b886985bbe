/*
 * The control API without HTTP: the status JSON byte for byte, the transfer object, log and
 * error JSON (escapes, U+FFFD for invalid UTF-8, size caps), the reset body parser and its
 * messages, --control addresses, the Host check, SSE framing, the bounded event queue, and
 * the systemd notification datagram.
 */
#include "config.h"

#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_api.h"
#include "control_events.h"
#include "control_json.h"
#include "control_slots.h"
#include "options.h"
#include "sd_notify.h"
#include "testlib.h"

/* --- status JSON ---------------------------------------------------------------------- */

/* The text of a JSON value from the API (the reference is taken); free() it. */
static char *render(json_t *v)
{
  ck_assert_ptr_nonnull(v);
  char *text = control_json_dump(v, 65536, NULL);
  json_decref(v);
  ck_assert_ptr_nonnull(text);
  return text;
}

static char *render_status(const struct board_status *s)
{
  return render(control_status_json(s));
}

static void iap_board(struct board_status *s)
{
  static const uint8_t mac[6] = { 0, 0, 0, 0, 0, 2 };
  memset(s, 0, sizeof(*s));
  s->reason = "no application";
  s->detail = "no application at 0x08010000 (erased)";
  s->uptime_ms = 1234;
  s->backend = "tap";
  s->interface = "tap0";
  memcpy(s->mac, mac, 6);
  memcpy(s->ip, (uint8_t[4]){ 192, 168, 0, 10 }, 4);
  memcpy(s->netmask, (uint8_t[4]){ 255, 255, 255, 0 }, 4);
  memcpy(s->gateway, (uint8_t[4]){ 192, 168, 0, 1 }, 4);
  s->address_source = "static";
  s->up = true;
  s->rx_frames = 7;
  s->tx_frames = 5;
  s->user_flash = 0x08010000u;
  s->protected_sectors = 0x0F;
  for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++)
    s->erased[n] = n >= 5;
  s->erase_count[4] = 3;
  s->boot_verify = "integrity";
  s->layout = "single";
  s->slot_count = 1;
  s->slots[0] = (struct control_image_slot){ "primary", 0x08010000u, 0x08100000u, 982912u,
                                             "empty", "empty at 0x08010000", false, 0, 0, 0,
                                             "" };
  s->timing = "none";
  s->timing_scale = 1.0;
}

static const char *const slots_json =
  "\"slots\":{\"boot_verify\":\"integrity\",\"layout\":\"single\",\"list\":[{\"name\":\"primary\","
  "\"address\":\"0x08010000\",\"end\":\"0x08100000\",\"max_image\":982912,\"content\":\"empty\","
  "\"detail\":\"empty at 0x08010000\",\"record\":null}]}";

static const char *const sectors_json =
  "\"sectors\":["
  "{\"sector\":0,\"address\":\"0x08000000\",\"size\":16384,\"bootloader\":true,\"erased\":false,\"erase_count\":0},"
  "{\"sector\":1,\"address\":\"0x08004000\",\"size\":16384,\"bootloader\":true,\"erased\":false,\"erase_count\":0},"
  "{\"sector\":2,\"address\":\"0x08008000\",\"size\":16384,\"bootloader\":true,\"erased\":false,\"erase_count\":0},"
  "{\"sector\":3,\"address\":\"0x0800c000\",\"size\":16384,\"bootloader\":true,\"erased\":false,\"erase_count\":0},"
  "{\"sector\":4,\"address\":\"0x08010000\",\"size\":65536,\"bootloader\":false,\"erased\":false,\"erase_count\":3},"
  "{\"sector\":5,\"address\":\"0x08020000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0},"
  "{\"sector\":6,\"address\":\"0x08040000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0},"
  "{\"sector\":7,\"address\":\"0x08060000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0},"
  "{\"sector\":8,\"address\":\"0x08080000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0},"
  "{\"sector\":9,\"address\":\"0x080a0000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0},"
  "{\"sector\":10,\"address\":\"0x080c0000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0},"
  "{\"sector\":11,\"address\":\"0x080e0000\",\"size\":131072,\"bootloader\":false,\"erased\":true,\"erase_count\":0}]";

/* --- connection slots ------------------------------------------------------------------- */

static struct sockaddr_in addr4(uint8_t last, uint16_t port)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7F000000u | last);
  return a;
}

static struct control_slot *add(struct control_slots *s, uintptr_t id, uint8_t last,
                                uint32_t now, struct control_slot **evict)
{
  struct sockaddr_in a = addr4(last, (uint16_t)(40000 + id));
  return control_slots_add(s, (void *)id, (const struct sockaddr *)&a, now, evict);
}

START_TEST(slots_flood_from_one_address)
{
  /* One address, the flood's: CONTROL_SLOTS_PER_ADDRESS open, then each new one closes the
   * oldest idle of its address. */
  struct control_slots s;
  struct control_slot *ev, *slot[40];
  memset(&s, 0, sizeof(s));
  for (uintptr_t i = 0; i < CONTROL_SLOTS_PER_ADDRESS; i++) {
    slot[i] = add(&s, i + 1, 1, (uint32_t)i, &ev);
    ck_assert_ptr_nonnull(slot[i]);
    ck_assert_ptr_null(ev);
  }
  control_slots_busy(slot[0], true, 100);  /* the oldest has a request in progress */
  slot[12] = add(&s, 13, 1, 200, &ev);
  ck_assert_ptr_eq(ev, slot[1]);           /* the oldest idle, not the busy one */
  ck_assert(ev->closing);
  ck_assert_ptr_eq(ev->conn, (void *)2);
  /* closing ones count as gone at once: the next closes the next, before they are gone */
  slot[13] = add(&s, 14, 1, 201, &ev);
  ck_assert_ptr_eq(ev, slot[2]);
  control_slots_remove(slot[1]);           /* the server closed them */
  control_slots_remove(slot[2]);
  /* an idle one that served a request is idle since its answer */
  control_slots_busy(slot[0], false, 300);
  slot[14] = add(&s, 15, 1, 301, &ev);
  ck_assert_ptr_eq(ev, slot[3]);           /* since 3, older than slot 0's 300 */
  /* another address is not at its limit, and the total (13 with it) has room */
  ck_assert_ptr_nonnull(add(&s, 100, 2, 302, &ev));
  ck_assert_ptr_null(ev);
}
END_TEST

START_TEST(slots_total_and_streams)
{
  /* Many addresses: the total limit closes the oldest idle of any; event streams never. */
  struct control_slots s;
  struct control_slot *ev, *slot[CONTROL_SLOTS + 1];
  memset(&s, 0, sizeof(s));
  for (uintptr_t i = 0; i < CONTROL_SLOTS; i++) {
    slot[i] = add(&s, i + 1, (uint8_t)(i + 1), (uint32_t)i, &ev);
    ck_assert_ptr_null(ev);
  }
  for (unsigned i = 0; i < 8; i++) {      /* the 8 oldest are event streams */
    control_slots_busy(slot[i], true, 50);
    slot[i]->stream = true;
  }
  for (unsigned i = 8; i < CONTROL_SLOTS; i++)
    control_slots_busy(slot[i], true, 60 + i);  /* the rest busy: the oldest request goes */
  slot[16] = add(&s, 17, 200, 100, &ev);
  ck_assert_ptr_nonnull(slot[16]);
  ck_assert_ptr_eq(ev, slot[8]);          /* not the new one: its request is still to come */
  control_slots_remove(ev);
  control_slots_busy(slot[16], true, 105);  /* and there it is */
  /* an idle one goes before any busy one */
  control_slots_busy(slot[12], false, 110);
  ck_assert_ptr_nonnull(add(&s, 18, 201, 120, &ev));
  ck_assert_ptr_eq(ev, slot[12]);
  control_slots_remove(ev);
  /* with every other slot a stream, the new one closes itself */
  for (unsigned i = 9; i < CONTROL_SLOTS; i++)
    if (s.slot[i].used)
      control_slots_remove(&s.slot[i]);
  for (unsigned i = 0; i < CONTROL_SLOTS_HARD; i++)
    if (s.slot[i].used && !s.slot[i].stream)
      control_slots_remove(&s.slot[i]);
  for (uintptr_t i = 0; i < 8; i++) {
    struct control_slot *n = add(&s, 30 + i, (uint8_t)(30 + i), 200, &ev);
    ck_assert_ptr_null(ev);
    control_slots_busy(n, true, 200);
    n->stream = true;                     /* 16 streams: more than the server allows */
  }
  struct control_slot *last = add(&s, 40, 40, 201, &ev);
  ck_assert_ptr_eq(ev, last);
  ck_assert(last->closing);
}
END_TEST

START_TEST(status_iap_mode_exact)
{
  struct board_status s;
  char want[8192];
  iap_board(&s);
  char *text = render_status(&s);
  snprintf(want, sizeof(want),
           "{\"board\":{\"mode\":\"iap\",\"reason\":\"no application\","
           "\"detail\":\"no application at 0x08010000 (erased)\",\"key_held\":false,"
           "\"application\":null,\"uptime_ms\":1234},"
           "\"network\":{\"backend\":\"tap\",\"interface\":\"tap0\","
           "\"mac\":\"00:00:00:00:00:02\",\"ip\":\"192.168.0.10\","
           "\"netmask\":\"255.255.255.0\",\"gateway\":\"192.168.0.1\","
           "\"address_source\":\"static\",\"up\":true,\"rx_frames\":7,\"tx_frames\":5,"
           "\"rx_dropped_stalled\":0},"
           "\"transfer\":null,"
           "\"flash\":{\"size\":1048576,\"user_flash\":\"0x08010000\",\"busy\":false,"
           "\"timing\":\"none\",\"timing_scale\":1.0,\"operations_since_power_on\":0,"
           "\"last_upgrade_silicon_ms\":null,\"power_cuts\":0,%s},%s,"
           "\"flash_error\":null}", sectors_json, slots_json);
  ck_assert_str_eq(text, want);
  free(text);
}
END_TEST

START_TEST(status_application_and_transfer)
{
  struct board_status s;
  iap_board(&s);
  s.application = true;
  s.reason = "valid application";
  s.msp = 0x20020000u;
  s.pc = 0x080101c1u;
  s.transfer = (struct control_transfer){ true, "TFTP", "192.168.0.1:37713", 5120, 20000,
                                          2000 };
  char *text = render_status(&s);
  tl_assert_contains(text, "\"board\":{\"mode\":\"application\",\"reason\":\"valid application\"");
  tl_assert_contains(text, "\"application\":{\"msp\":\"0x20020000\",\"pc\":\"0x080101c1\"}");
  tl_assert_contains(text, ",\"flash_error\":null}");
  free(text);
  /* the flash file lost: the reason, as logged */
  s.flash_error = "flash file /x/f.bin was deleted while iapd runs: what is programmed from now "
                  "on is lost; uploads are refused until iapd is restarted";
  text = render_status(&s);
  tl_assert_contains(text, "},\"flash_error\":\"flash file /x/f.bin was deleted while iapd "
                     "runs: what is programmed from now on is lost; uploads are refused until "
                     "iapd is restarted\"}");
  tl_assert_contains(text, "\"transfer\":{\"protocol\":\"TFTP\",\"peer\":\"192.168.0.1:37713\","
                     "\"bytes\":5120,\"expected_bytes\":20000,\"percent\":25,"
                     "\"rate_bytes_per_s\":2560,\"elapsed_ms\":2000}");
  free(text);
}
END_TEST

/* The flash as silicon: busy, timing, operations, the last upgrade's silicon time, cuts. */
START_TEST(status_flash_silicon)
{
  struct board_status s;
  iap_board(&s);
  s.busy = true;
  s.timing = "max";
  s.timing_scale = 0.01;
  s.operations = 1929;
  s.last_upgrade = true;
  s.last_upgrade_silicon_ms = 11547;
  s.power_cuts = 2;
  s.rx_dropped_stalled = 41;
  char *text = render_status(&s);
  tl_assert_contains(text, "\"tx_frames\":5,\"rx_dropped_stalled\":41}");
  tl_assert_contains(text, "\"user_flash\":\"0x08010000\",\"busy\":true,\"timing\":\"max\","
                     "\"timing_scale\":0.01,\"operations_since_power_on\":1929,"
                     "\"last_upgrade_silicon_ms\":11547,\"power_cuts\":2,\"sectors\":[");
  free(text);
}
END_TEST

static char *render_transfer(const struct control_transfer *t)
{
  return render(control_transfer_json(t));
}

START_TEST(transfer_unknown_size_and_zero_time)
{
  struct control_transfer t = { true, "TFTP", "10.0.0.1:1", 512, 0, 0 };
  char *text = render_transfer(&t);
  ck_assert_str_eq(text, "{\"protocol\":\"TFTP\",\"peer\":\"10.0.0.1:1\",\"bytes\":512,"
                   "\"expected_bytes\":null,\"percent\":null,\"rate_bytes_per_s\":0,"
                   "\"elapsed_ms\":0}");
  free(text);
  t.active = false;
  text = render_transfer(&t);
  ck_assert_str_eq(text, "null");
  free(text);
}
END_TEST

START_TEST(transfer_percent_rounds_down_and_caps)
{
  struct control_transfer t = { true, "HTTP", "p", 19999, 20000, 1 };
  char *text = render_transfer(&t);
  tl_assert_contains(text, "\"percent\":99,");
  tl_assert_contains(text, "\"rate_bytes_per_s\":19999000,");
  free(text);
  t.bytes = 30000;  /* more than announced: the writer refuses it, the bar stops at 100 */
  text = render_transfer(&t);
  tl_assert_contains(text, "\"percent\":100,");
  free(text);
}
END_TEST

START_TEST(status_counters_full_32_bits)
{
  struct board_status s;
  iap_board(&s);
  s.uptime_ms = UINT32_MAX;
  s.rx_frames = UINT32_MAX;
  s.erase_count[11] = UINT32_MAX;
  char *text = render_status(&s);
  tl_assert_contains(text, "\"key_held\":false,\"application\":null,\"uptime_ms\":4294967295}");
  tl_assert_contains(text, "\"up\":true,\"rx_frames\":4294967295,\"tx_frames\":5,\"rx_dropped_stalled\":0}");
  tl_assert_contains(text, "\"erased\":true,\"erase_count\":4294967295}]");
  free(text);
}
END_TEST

/* --- strings: escapes, UTF-8, caps ------------------------------------------------------ */

#define FFFD "\xef\xbf\xbd"

START_TEST(status_strings_escaped)
{
  struct board_status s;
  iap_board(&s);
  s.detail = "q\" b\\ s/ \b\f\n\r\t \x01\x1f\x7f";
  char *text = render_status(&s);
  /* '/' and DEL need no escape; other control characters as \u00XX (jansson: upper case). */
  tl_assert_contains(text, "\"reason\":\"no application\","
                     "\"detail\":\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001F\x7f\","
                     "\"key_held\":false,");
  free(text);
}
END_TEST

START_TEST(log_event_exact)
{
  char buf[1024];
  json_t *line = control_log_json(IAP_LOG_WARN, "tftp", "transfer from 192.168.0.1:37713 "
                                  "timed out", 61000);
  size_t n = control_sse_event(buf, sizeof(buf), "log", line);
  json_decref(line);
  static const char want[] = "event: log\ndata: {\"level\":\"warning\",\"module\":\"tftp\","
                             "\"text\":\"transfer from 192.168.0.1:37713 timed out\","
                             "\"uptime_ms\":61000}\n\n";
  ck_assert_uint_eq(n, sizeof(want) - 1);
  ck_assert_str_eq(buf, want);

  char *text = render(control_log_json(IAP_LOG_ERR, "flash", "x", 0));
  ck_assert_str_eq(text, "{\"level\":\"error\",\"module\":\"flash\",\"text\":\"x\",\"uptime_ms\":0}");
  free(text);
  text = render(control_log_json(IAP_LOG_DEBUG, "net", "", 1));
  ck_assert_str_eq(text, "{\"level\":\"debug\",\"module\":\"net\",\"text\":\"\",\"uptime_ms\":1}");
  free(text);
}
END_TEST

START_TEST(log_text_valid_utf8_kept)
{
  /* e acute (2 bytes), euro sign (3), U+1F600 (4), U+10FFFF (the last code point) */
  char *text = render(control_log_json(IAP_LOG_INFO, "tftp",
                                       "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 0));
  ck_assert_str_eq(text, "{\"level\":\"info\",\"module\":\"tftp\","
                   "\"text\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\",\"uptime_ms\":0}");
  free(text);
}
END_TEST

START_TEST(log_text_invalid_utf8_replaced)
{
  /* A file name as a TFTP client may send it: a stray continuation byte, a lone 0xFF, an
   * overlong '/', a surrogate, above U+10FFFF, a sequence cut short by the end. Each bad byte
   * is one U+FFFD; the valid bytes around them stay. */
  char *text = render(control_log_json(IAP_LOG_INFO, "tftp",
                                       "file \x80|\xff|\xc0\xaf|\xed\xa0\x80|"
                                       "\xf4\x90\x80\x80|\xc3\xa9\xe2\x82", 5));
  ck_assert_str_eq(text, "{\"level\":\"info\",\"module\":\"tftp\",\"text\":\"file "
                   FFFD "|" FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|"
                   "\xc3\xa9" FFFD FFFD "\",\"uptime_ms\":5}");
  free(text);
}
END_TEST

START_TEST(error_json_quotes_what_the_client_sent)
{
  /* A refusal quotes the Host header: quotes, a backslash and bytes that are not UTF-8. */
  char *text = render(control_error_json("Host 'a\"b\\c\xff\x01' is not an address of this "
                                         "server"));
  ck_assert_str_eq(text, "{\"error\":\"Host 'a\\\"b\\\\c" FFFD "\\u0001' is not an address "
                   "of this server\"}");
  free(text);
}
END_TEST

START_TEST(event_too_large_is_not_sent)
{
  /* An event is sent whole or not at all: the text of a line that does not fit is never
   * cut short. "event: log\ndata: " + {"error":"12345"} + "\n\n" is 36 bytes, and snprintf
   * needs one more for its NUL. */
  char buf[64];
  json_t *v = control_error_json("12345");
  ck_assert_uint_eq(control_sse_event(buf, 37, "log", v), 36);
  ck_assert_str_eq(buf, "event: log\ndata: {\"error\":\"12345\"}\n\n");
  ck_assert_uint_eq(control_sse_event(buf, 36, "log", v), 0);
  ck_assert_uint_eq(control_sse_event(buf, 10, "log", v), 0);
  json_decref(v);
  ck_assert_uint_eq(control_sse_event(buf, sizeof(buf), "log", NULL), 0);

  /* The same cap on a reply: its whole text or nothing. */
  v = control_error_json("12345");
  size_t len = 0;
  char *text = control_json_dump(v, 17, &len);
  ck_assert_str_eq(text, "{\"error\":\"12345\"}");
  ck_assert_uint_eq(len, 17);
  free(text);
  ck_assert_ptr_null(control_json_dump(v, 16, NULL));
  json_decref(v);
}
END_TEST

/* --- POST /api/reset body ----------------------------------------------------------------- */

static bool reset_ok(const char *body, bool want)
{
  char why[200] = "";
  bool key = !want;
  bool ok = control_parse_reset(body, strlen(body), &key, why, sizeof(why));
  ck_assert_msg(ok, "body '%s' refused: %s", body, why);
  return key == want;
}

static void reset_refused(const char *body, const char *want_why)
{
  char why[200] = "";
  bool key = false;
  ck_assert_msg(!control_parse_reset(body, strlen(body), &key, why, sizeof(why)),
                "body '%s' accepted", body);
  ck_assert_str_eq(why, want_why);
}

START_TEST(reset_bodies_accepted)
{
  ck_assert(reset_ok("{\"key\": true}", true));
  ck_assert(reset_ok("{\"key\":false}", false));
  ck_assert(reset_ok(" \r\n\t{ \"key\" :\ttrue }\n", true));
  /* A name with an escape is the same name (RFC 8259, 7): "k\u0065y" is "key". */
  ck_assert(reset_ok("{\"k\\u0065y\": false}", false));
}
END_TEST

#define EXP ": expected {\"key\": true} or {\"key\": false}"

START_TEST(reset_bodies_refused)
{
  reset_refused("", "empty body" EXP);
  reset_refused("  ", "empty body" EXP);
  reset_refused("[]", "not a JSON object" EXP);
  reset_refused("{}", "no \"key\" member" EXP);
  reset_refused("{\"Key\": true}", "unknown member \"Key\"" EXP);
  reset_refused("{\"key\": true, \"force\": 1}", "unknown member \"force\"" EXP);
  reset_refused("{\"key\": 1}", "\"key\" must be true or false" EXP);
  reset_refused("{\"key\": \"true\"}", "\"key\" must be true or false" EXP);
  reset_refused("{\"key\": null}", "\"key\" must be true or false" EXP);
  reset_refused("{\"a-member-name-longer-than-32-bytes-is-cut\": true}",
                "unknown member \"a-member-name-longer-than-32-byt\"" EXP);
  /* Not JSON at all: jansson's message, and the line and column where it stopped. */
  reset_refused("{\"key\": true, \"key\": false}",
                "JSON error at line 1, column 19: duplicate object key near '\"key\"'" EXP);
  reset_refused("{\"key\" true}", "JSON error at line 1, column 11: ':' expected near 'true'" EXP);
  reset_refused("{\"key\": true", "JSON error at line 1, column 12: '}' expected near end of file" EXP);
  reset_refused("{\"key\": true} x", "JSON error at line 1, column 15: end of file expected near 'x'" EXP);
  reset_refused("{key: true}", "JSON error at line 1, column 4: string or '}' expected near 'key'" EXP);
  reset_refused("{\"key\": truex}", "JSON error at line 1, column 13: invalid token near 'truex'" EXP);
  reset_refused("\"key\"", "JSON error at line 1, column 5: '[' or '{' expected near '\"key\"'" EXP);
  reset_refused("{\n\"key\":\n tru}", "JSON error at line 3, column 4: invalid token near 'tru'" EXP);
  reset_refused("{\"k\xffy\": true}", "JSON error at line 1, column 3: unable to decode byte 0xff near '\"k'" EXP);
}
END_TEST

START_TEST(reset_body_not_nul_terminated)
{
  /* The parser reads len bytes only: a body is not a C string. */
  char body[13];
  memcpy(body, "{\"key\":true}", 12);
  body[12] = 'X';
  bool key = false;
  char why[200];
  ck_assert(control_parse_reset(body, 12, &key, why, sizeof(why)));
  ck_assert(key);
}
END_TEST

/* --- POST /api/power-cut body and reply ---------------------------------------------------- */

static int cut_mode_of(const char *body)
{
  char why[200] = "";
  int mode = 99;
  ck_assert_msg(control_parse_power_cut(body, strlen(body), &mode, why, sizeof(why)),
                "body '%s' refused: %s", body, why);
  return mode;
}

static void cut_refused(const char *body, const char *want_why)
{
  char why[200] = "";
  int mode = 99;
  ck_assert_msg(!control_parse_power_cut(body, strlen(body), &mode, why, sizeof(why)),
                "body '%s' accepted", body);
  ck_assert_str_eq(why, want_why);
}

#define CUT_EXP ": expected {} or {\"mode\": \"torn\"} or {\"mode\": \"clean\"}"

START_TEST(power_cut_bodies)
{
  ck_assert_int_eq(cut_mode_of("{}"), -1);
  ck_assert_int_eq(cut_mode_of(" { }\n"), -1);
  ck_assert_int_eq(cut_mode_of("{\"mode\": \"torn\"}"), 0);
  ck_assert_int_eq(cut_mode_of("{\"mode\":\"clean\"}"), 1);
  cut_refused("", "empty body" CUT_EXP);
  cut_refused("[]", "not a JSON object" CUT_EXP);
  cut_refused("{\"mode\": \"half\"}", "\"mode\" must be \"torn\" or \"clean\"" CUT_EXP);
  cut_refused("{\"mode\": true}", "\"mode\" must be \"torn\" or \"clean\"" CUT_EXP);
  cut_refused("{\"key\": true}", "unknown member \"key\"" CUT_EXP);
  cut_refused("{\"mode\": \"torn\"", "JSON error at line 1, column 15: '}' expected near end "
              "of file" CUT_EXP);
}
END_TEST

START_TEST(power_cut_reply_exact)
{
  struct power_cut_report r = { 7, 7, "torn", "program of 8 bytes at 0x08010000 torn: ...",
                                false };
  char *text = render(control_power_cut_json(&r));
  ck_assert_str_eq(text, "{\"power_cut\":true,\"operation\":7,\"operations\":7,\"cut\":\"torn\","
                   "\"what\":\"program of 8 bytes at 0x08010000 torn: ...\",\"mode\":\"iap\"}");
  free(text);
  r = (struct power_cut_report){ 0, 12, "clean", "no flash operation in progress", true };
  text = render(control_power_cut_json(&r));
  ck_assert_str_eq(text, "{\"power_cut\":true,\"operation\":null,\"operations\":12,"
                   "\"cut\":\"clean\",\"what\":\"no flash operation in progress\","
                   "\"mode\":\"application\"}");
  free(text);
}
END_TEST

/* --- --control ---------------------------------------------------------------------------- */

START_TEST(listen_accepted)
{
  struct control_listen l;
  char why[200];

  ck_assert(control_parse_listen("127.0.0.1:8069", &l, why, sizeof(why)));
  ck_assert(l.enabled && l.loopback);
  ck_assert_int_eq(l.addr.ss_family, AF_INET);
  const struct sockaddr_in *sin = (const struct sockaddr_in *)&l.addr;
  ck_assert_uint_eq(ntohs(sin->sin_port), 8069);
  ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7F000001u);

  ck_assert(control_parse_listen("localhost:1", &l, why, sizeof(why)));
  ck_assert(l.enabled && l.loopback);

  ck_assert(control_parse_listen("0.0.0.0:65535", &l, why, sizeof(why)));
  ck_assert(l.enabled && !l.loopback);

  ck_assert(control_parse_listen("[::1]:8069", &l, why, sizeof(why)));
  ck_assert(l.enabled && l.loopback);
  ck_assert_int_eq(l.addr.ss_family, AF_INET6);
  ck_assert_uint_eq(ntohs(((const struct sockaddr_in6 *)&l.addr)->sin6_port), 8069);

  ck_assert(control_parse_listen("none", &l, why, sizeof(why)));
  ck_assert(!l.enabled);
}
END_TEST

#define LEXP " (expected ADDR:PORT as in 127.0.0.1:8069 or [::1]:8069, or none)"

static void listen_refused(const char *text, const char *want)
{
  struct control_listen l;
  char why[200] = "";
  ck_assert_msg(!control_parse_listen(text, &l, why, sizeof(why)), "'%s' accepted", text);
  ck_assert_str_eq(why, want);
}

START_TEST(listen_refused_with_reason)
{
  listen_refused("127.0.0.1", "has no port" LEXP);
  listen_refused("127.0.0.1:0", "has no valid port (1 to 65535)" LEXP);
  listen_refused("127.0.0.1:65536", "has no valid port (1 to 65535)" LEXP);
  listen_refused("127.0.0.1:80x", "has no valid port (1 to 65535)" LEXP);
  listen_refused("127.0.0.1:", "has no valid port (1 to 65535)" LEXP);
  listen_refused("example.org:80", "has no valid address" LEXP);
  listen_refused("::1:8069", "has no valid address" LEXP);
  listen_refused("[127.0.0.1]:8069", "has no valid address" LEXP);
  listen_refused("[::1]8069", "is not an address and port" LEXP);
  listen_refused("", "has no port" LEXP);
}
END_TEST

START_TEST(host_header_check)
{
  ck_assert(control_host_allowed(NULL));
  ck_assert(control_host_allowed("127.0.0.1:8069"));
  ck_assert(control_host_allowed("127.0.0.1"));
  ck_assert(control_host_allowed("localhost:8069"));
  ck_assert(control_host_allowed("LOCALHOST"));
  ck_assert(control_host_allowed("[::1]:8069"));
  ck_assert(control_host_allowed("10.1.2.3:80"));
  ck_assert(!control_host_allowed("evil.example:8069"));
  ck_assert(!control_host_allowed("127.0.0.1.evil.example"));
  ck_assert(!control_host_allowed("localhost.evil.example:8069"));
  ck_assert(!control_host_allowed("127.0.0.1:80x"));
  ck_assert(!control_host_allowed("[::1"));
  ck_assert(!control_host_allowed("[::1]x"));
  ck_assert(!control_host_allowed(""));
}
END_TEST

/* --- server-sent events --------------------------------------------------------------------- */

START_TEST(sse_framing)
{
  char buf[64];
  ck_assert_uint_eq(control_sse_format(buf, sizeof(buf), "log", "{\"a\":1}", 7), 26);
  ck_assert_str_eq(buf, "event: log\ndata: {\"a\":1}\n\n");
  ck_assert_uint_eq(control_sse_format(buf, sizeof(buf), "log", "a\nb", 3), 0);
  ck_assert_uint_eq(control_sse_format(buf, sizeof(buf), "log", "a\rb", 3), 0);
  ck_assert_uint_eq(control_sse_format(buf, 10, "log", "{}", 2), 0);
}
END_TEST

START_TEST(event_queue_wraps_in_order)
{
  struct event_queue q;
  char out[16];
  ck_assert(event_queue_init(&q, 10));
  ck_assert(event_queue_push(&q, "abcdef", 6));
  ck_assert_uint_eq(event_queue_pop(&q, out, 4), 4);
  ck_assert_int_eq(memcmp(out, "abcd", 4), 0);
  ck_assert(event_queue_push(&q, "ghijklmn", 8));    /* wraps around the end */
  ck_assert_uint_eq(q.len, 10);
  ck_assert_uint_eq(event_queue_pop(&q, out, sizeof(out)), 10);
  ck_assert_int_eq(memcmp(out, "efghijklmn", 10), 0);
  ck_assert_uint_eq(event_queue_pop(&q, out, sizeof(out)), 0);
  ck_assert(!q.overflowed);
  event_queue_free(&q);
}
END_TEST

START_TEST(event_queue_overflow_drops_whole_event_and_sticks)
{
  struct event_queue q;
  char out[16];
  ck_assert(event_queue_init(&q, 8));
  ck_assert(event_queue_push(&q, "12345", 5));
  ck_assert(!event_queue_push(&q, "6789", 4));       /* would not fit: nothing of it queued */
  ck_assert(q.overflowed);
  ck_assert_uint_eq(q.len, 5);
  ck_assert(!event_queue_push(&q, "x", 1));          /* the client is dropped: no more */
  ck_assert_uint_eq(event_queue_pop(&q, out, sizeof(out)), 5);
  ck_assert_int_eq(memcmp(out, "12345", 5), 0);
  event_queue_free(&q);
}
END_TEST

/* --- systemd notification ------------------------------------------------------------------- */

START_TEST(notify_reaches_socket)
{
  char dir[] = "/tmp/check_control.XXXXXX";
  char path[64], err[200] = "", buf[256];
  struct sockaddr_un sun;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/notify", dir);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);

  unsetenv("NOTIFY_SOCKET");
  ck_assert(!sd_notify_wanted());
  ck_assert_int_eq(sd_notify_send("READY=1", err, sizeof(err)), 0);

  setenv("NOTIFY_SOCKET", path, 1);
  ck_assert(sd_notify_wanted());
  ck_assert_int_eq(sd_notify_send("READY=1\nSTATUS=IAP mode", err, sizeof(err)), 1);
  ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
  ck_assert_int_eq(n, 23);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "READY=1\nSTATUS=IAP mode");

  setenv("NOTIFY_SOCKET", "relative/path", 1);
  ck_assert_int_eq(sd_notify_send("READY=1", err, sizeof(err)), -1);
  ck_assert_str_eq(err, "NOTIFY_SOCKET=relative/path is not a socket path or abstract name");

  unlink(path);
  setenv("NOTIFY_SOCKET", path, 1);
  ck_assert_int_eq(sd_notify_send("READY=1", err, sizeof(err)), -1);
  tl_assert_contains(err, "cannot notify systemd at ");
  unsetenv("NOTIFY_SOCKET");
  close(fd);
  rmdir(dir);
}
END_TEST

/* --- the options of this issue -------------------------------------------------------------- */

static char opt_err[2048];

/* options_parse on argv (NULL-terminated, without "iapd"); --config /dev/null unless given. */
static enum options_status parse_opts(struct iapd_options *o, const char *const *args)
{
  char *argv[24];
  int argc = 0;
  bool has_config = false;
  argv[argc++] = (char *)"iapd";
  for (; *args != NULL; args++) {
    has_config = has_config || strcmp(*args, "--config") == 0;
    argv[argc++] = (char *)*args;
  }
  if (!has_config) {
    argv[argc++] = (char *)"--config";
    argv[argc++] = (char *)"/dev/null";
  }
  argv[argc] = NULL;
  memset(opt_err, 0, sizeof(opt_err));
  FILE *out = fopen("/dev/null", "w");
  FILE *err = fmemopen(opt_err, sizeof(opt_err) - 1, "w");
  ck_assert_ptr_nonnull(out);
  ck_assert_ptr_nonnull(err);
  enum options_status st = options_parse(o, argc, argv, out, err);
  fclose(out);
  fclose(err);
  return st;
}

START_TEST(options_defaults_of_this_issue)
{
  struct iapd_options o;
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ NULL }), OPTIONS_OK);
  ck_assert_str_eq(o.control, "127.0.0.1:8069");
  ck_assert_str_eq(o.pcap_path, "");
  ck_assert_str_eq(o.attach, "");
  ck_assert(!o.dhcp);
}
END_TEST

START_TEST(options_command_line)
{
  struct iapd_options o;
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--control", "[::1]:9000", "--pcap",
                                                    "/tmp/x.pcap", "--attach", "veth1",
                                                    "--dhcp", NULL }), OPTIONS_OK);
  ck_assert_str_eq(o.control, "[::1]:9000");
  ck_assert_str_eq(o.pcap_path, "/tmp/x.pcap");
  ck_assert_str_eq(o.attach, "veth1");
  ck_assert(o.dhcp);
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--control", "none", NULL }), OPTIONS_OK);
  ck_assert_str_eq(o.control, "none");

  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--control", "8069", NULL }),
                   OPTIONS_ERROR);
  ck_assert_str_eq(opt_err, "iapd: --control 8069 has no port (expected ADDR:PORT as in "
                   "127.0.0.1:8069 or [::1]:8069, or none)\n");
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--attach", "veth1", "--tap", "tap0",
                                                    NULL }), OPTIONS_ERROR);
  ck_assert_str_eq(opt_err, "iapd: tap tap0 and attach veth1 both set: the board has one "
                   "Ethernet port; use tap for a TAP device iapd creates, attach for an "
                   "existing interface\n");
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--attach", "veth1", "--host-addr",
                                                    "10.0.0.1/24", NULL }), OPTIONS_ERROR);
  tl_assert_contains(opt_err, "iapd: host-addr applies to the TAP device, not to an interface "
                     "given with attach (veth1)");
}
END_TEST

START_TEST(options_config_keys_and_command_line_wins)
{
  char dir[] = "/tmp/check_control.XXXXXX";
  char path[64];
  struct iapd_options o;
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/iapd.conf", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("control = 127.0.0.1:9001\npcap = /var/tmp/b.pcap\ndhcp = yes\ntap = tap7\n", f);
  fclose(f);

  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--config", path, NULL }), OPTIONS_OK);
  ck_assert_str_eq(o.control, "127.0.0.1:9001");
  ck_assert_str_eq(o.pcap_path, "/var/tmp/b.pcap");
  ck_assert(o.dhcp);
  ck_assert_str_eq(o.tap, "tap7");
  /* --attach on the command line replaces the file's tap; --control wins over the file's. */
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--config", path, "--attach", "veth1",
                                                    "--control", "none", NULL }), OPTIONS_OK);
  ck_assert_str_eq(o.attach, "veth1");
  ck_assert_str_eq(o.control, "none");

  f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("control = 127.0.0.1\ndhcp = maybe\nattach = a b\npcap =\n", f);
  fclose(f);
  ck_assert_int_eq(parse_opts(&o, (const char *[]){ "--config", path, NULL }), OPTIONS_ERROR);
  char want[1024];
  snprintf(want, sizeof(want),
           "%s:1: bad value for control: 127.0.0.1 has no port (expected ADDR:PORT as in "
           "127.0.0.1:8069 or [::1]:8069, or none)\n"
           "%s:2: bad value for dhcp: maybe is not a boolean (expected yes, no, true, false, "
           "1 or 0)\n"
           "%s:3: bad value for attach: 'a b' is not an interface name (expected no '/', ':' "
           "or blanks, as in iapd0)\n"
           "%s:4: bad value for pcap: '' is empty (expected a file name)\n",
           path, path, path, path);
  ck_assert_str_eq(opt_err, want);
  unlink(path);
  rmdir(dir);
}
END_TEST

/* The shipped example sets every key to its default: parsing it changes nothing. */
START_TEST(options_example_file_is_the_defaults)
{
  const char *tests_dir = getenv("TESTS_DIR");
  char path[4096];
  struct iapd_options o, d;
  if (tests_dir == NULL)
    tests_dir = "tests";
  snprintf(path, sizeof(path), "%s/../fixtures/iapd.conf.example", tests_dir);
  ck_assert_int_eq(parse_opts(&d, (const char *[]){ NULL }), OPTIONS_OK);
  ck_assert_msg(parse_opts(&o, (const char *[]){ "--config", path, NULL }) == OPTIONS_OK,
                "%s: %s", path, opt_err);
  ck_assert_str_eq(o.control, d.control);
  ck_assert_str_eq(o.pcap_path, d.pcap_path);
  ck_assert_str_eq(o.attach, d.attach);
  ck_assert_int_eq(o.dhcp, d.dhcp);
  ck_assert_int_eq(o.flash_timing, d.flash_timing);
  ck_assert(o.flash_timing_scale == d.flash_timing_scale);
  ck_assert_uint_eq(o.power_cut_at_op, d.power_cut_at_op);
  ck_assert_int_eq(o.power_cut_mode, d.power_cut_mode);
  ck_assert_uint_eq(o.seed, d.seed);
}
END_TEST

static Suite *control_suite(void)
{
  Suite *s = suite_create("control");
  TCase *tc = tcase_create("api");
  tcase_add_test(tc, slots_flood_from_one_address);
  tcase_add_test(tc, slots_total_and_streams);
  tcase_add_test(tc, status_iap_mode_exact);
  tcase_add_test(tc, status_application_and_transfer);
  tcase_add_test(tc, transfer_unknown_size_and_zero_time);
  tcase_add_test(tc, transfer_percent_rounds_down_and_caps);
  tcase_add_test(tc, status_counters_full_32_bits);
  tcase_add_test(tc, status_strings_escaped);
  tcase_add_test(tc, log_event_exact);
  tcase_add_test(tc, log_text_valid_utf8_kept);
  tcase_add_test(tc, log_text_invalid_utf8_replaced);
  tcase_add_test(tc, error_json_quotes_what_the_client_sent);
  tcase_add_test(tc, event_too_large_is_not_sent);
  tcase_add_test(tc, reset_bodies_accepted);
  tcase_add_test(tc, reset_bodies_refused);
  tcase_add_test(tc, reset_body_not_nul_terminated);
  tcase_add_test(tc, power_cut_bodies);
  tcase_add_test(tc, power_cut_reply_exact);
  tcase_add_test(tc, status_flash_silicon);
  tcase_add_test(tc, listen_accepted);
  tcase_add_test(tc, listen_refused_with_reason);
  tcase_add_test(tc, host_header_check);
  tcase_add_test(tc, sse_framing);
  tcase_add_test(tc, event_queue_wraps_in_order);
  tcase_add_test(tc, event_queue_overflow_drops_whole_event_and_sticks);
  tcase_add_test(tc, notify_reaches_socket);
  tcase_add_test(tc, options_defaults_of_this_issue);
  tcase_add_test(tc, options_command_line);
  tcase_add_test(tc, options_config_keys_and_command_line_wins);
  tcase_add_test(tc, options_example_file_is_the_defaults);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(control_suite());
}
