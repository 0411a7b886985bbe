/*
 * src/ip_fragments.c, lwIP's IPv4 input hook: every fragment (MF set, or a non-zero offset)
 * is taken and freed, everything else left to lwIP untouched. Packets are pbufs from lwIP's
 * own pool, as the netifs hand them over.
 */
#include <check.h>
#include <string.h>

#include "ip_fragments.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "testlib.h"

/* An IPv4 header (20 bytes, no options) from 192.168.0.1 to 192.168.0.10 with the flags and
 * fragment offset word `flags_offset`, then `payload` bytes. */
static struct pbuf *ipv4(uint16_t flags_offset, uint16_t payload)
{
  uint8_t h[20] = { 0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0,
                    192, 168, 0, 1, 192, 168, 0, 10 };
  uint16_t total = (uint16_t)(20 + payload);
  struct pbuf *p = pbuf_alloc(PBUF_RAW, total, PBUF_POOL);
  ck_assert_ptr_nonnull(p);
  h[2] = (uint8_t)(total >> 8);
  h[3] = (uint8_t)total;
  h[6] = (uint8_t)(flags_offset >> 8);
  h[7] = (uint8_t)flags_offset;
  memset(p->payload, 0xA5, p->len);
  memcpy(p->payload, h, sizeof(h));
  return p;
}

START_TEST(fragments_taken_and_freed)
{
  static const uint16_t fragments[] = {
    0x2000,          /* MF: the first fragment */
    0x2000 | 185,    /* MF and offset 1480: a middle one */
    185,             /* offset only: the last one */
    0x4000 | 1,      /* DF with an offset: still a fragment */
    0x1FFF,          /* the largest offset */
  };
  uint32_t before = ip_fragments_dropped();
  for (size_t i = 0; i < sizeof(fragments) / sizeof(fragments[0]); i++) {
    struct pbuf *p = ipv4(fragments[i], 1480);
    pbuf_ref(p);  /* ours: the hook's free must leave exactly this one */
    ck_assert_int_eq(ip_fragment_hook(p, NULL), 1);
    ck_assert_uint_eq(p->ref, 1);
    pbuf_free(p);
    ck_assert_uint_eq(ip_fragments_dropped(), before + i + 1);
  }
}
END_TEST

START_TEST(whole_datagrams_left_to_lwip)
{
  static const uint16_t whole[] = { 0x0000, 0x4000 /* DF */, 0x8000 /* the reserved bit */ };
  uint32_t before = ip_fragments_dropped();
  for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
    struct pbuf *p = ipv4(whole[i], 1480);
    ck_assert_int_eq(ip_fragment_hook(p, NULL), 0);
    ck_assert_uint_eq(p->ref, 1);
    ck_assert_uint_eq(((const uint8_t *)p->payload)[20], 0xA5);  /* untouched */
    pbuf_free(p);
  }
  /* A runt shorter than a header: lwIP's own checks drop it. */
  struct pbuf *p = pbuf_alloc(PBUF_RAW, 19, PBUF_POOL);
  ck_assert_ptr_nonnull(p);
  memset(p->payload, 0xFF, 19);
  ck_assert_int_eq(ip_fragment_hook(p, NULL), 0);
  pbuf_free(p);
  ck_assert_uint_eq(ip_fragments_dropped(), before);
}
END_TEST

static Suite *fragments_suite(void)
{
  Suite *s = suite_create("ip_fragments");
  TCase *tc = tcase_create("hook");
  tcase_add_test(tc, fragments_taken_and_freed);
  tcase_add_test(tc, whole_datagrams_left_to_lwip);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  lwip_init();
  return tl_run(fragments_suite());
}
