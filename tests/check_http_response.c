/*
 * The HTTP server's answer module (src/http_response.c) alone: every reason phrase, the sink
 * status to HTTP status mapping, and the output segment queue's bookkeeping.
 */
#include <check.h>
#include <string.h>

#include "http_response.h"
#include "testlib.h"

START_TEST(reason_phrases_exact)
{
  static const struct {
    int status;
    const char *phrase;
  } want[] = {
    { 100, "Continue" },
    { 200, "OK" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 408, "Request Timeout" },
    { 409, "Conflict" },
    { 411, "Length Required" },
    { 413, "Payload Too Large" },
    { 414, "URI Too Long" },
    { 415, "Unsupported Media Type" },
    { 417, "Expectation Failed" },
    { 422, "Unprocessable Entity" },
    { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" },
    { 500, "Internal Server Error" },
    { 501, "Not Implemented" },
    { 503, "Service Unavailable" },
    { 505, "HTTP Version Not Supported" },
    { 507, "Insufficient Storage" },
  };
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    ck_assert_str_eq(http_reason_phrase(want[i].status), want[i].phrase);
}
END_TEST

START_TEST(unknown_statuses_are_error)
{
  static const int unknown[] = { 0, -1, 1, 99, 101, 201, 302, 402, 410, 502, 599, 999, 1404,
                                 -404 };
  for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
    ck_assert_str_eq(http_reason_phrase(unknown[i]), "Error");
}
END_TEST

START_TEST(sink_status_mapping)
{
  ck_assert_int_eq(http_status_of(IAP_OK), 200);
  ck_assert_int_eq(http_status_of(IAP_ERR_INVALID_IMAGE), 422);
  ck_assert_int_eq(http_status_of(IAP_ERR_TOO_LARGE), 413);
  ck_assert_int_eq(http_status_of(IAP_ERR_BUSY), 409);
  ck_assert_int_eq(http_status_of(IAP_ERR_FLASH), 500);
  ck_assert_int_eq(http_status_of(IAP_ERR_STORAGE), 507);
  ck_assert_int_eq(http_status_of(IAP_ERR_STATE), 500);
}
END_TEST

START_TEST(queue_bookkeeping)
{
  static const char rom[] = "0123456789";
  struct http_out o;
  memset(&o, 0, sizeof(o));
  ck_assert(!http_out_pending(&o));

  http_out_add(&o, rom, 0, false);  /* nothing to send: no segment */
  ck_assert(!http_out_pending(&o));
  ck_assert_uint_eq(o.count, 0);

  http_out_add(&o, rom, 3, false);
  http_out_add(&o, o.head, 5, true);
  ck_assert(http_out_pending(&o));
  ck_assert_uint_eq(o.count, 2);
  ck_assert_ptr_eq(o.seg[0].data, (const uint8_t *)rom);
  ck_assert_uint_eq(o.seg[0].len, 3);
  ck_assert(!o.seg[0].copy);
  ck_assert_ptr_eq(o.seg[1].data, (const uint8_t *)o.head);
  ck_assert(o.seg[1].copy);

  /* more segments than it holds: the extra ones are not queued, the others are kept */
  for (unsigned i = 0; i < HTTP_OUT_SEGMENTS + 2; i++)
    http_out_add(&o, rom + i, 1, false);
  ck_assert_uint_eq(o.count, HTTP_OUT_SEGMENTS);
  ck_assert_uint_eq(o.seg[0].len, 3);

  /* all sent: the next answer starts on an empty queue */
  o.next = o.count;
  ck_assert(!http_out_pending(&o));
  http_out_add(&o, rom + 7, 2, false);
  ck_assert_uint_eq(o.count, 1);
  ck_assert_uint_eq(o.next, 0);
  ck_assert_ptr_eq(o.seg[0].data, (const uint8_t *)rom + 7);

  http_out_drop(&o);
  ck_assert(!http_out_pending(&o));
  ck_assert_uint_eq(o.count, 0);
}
END_TEST

static Suite *response_suite(void)
{
  Suite *s = suite_create("http_response");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, reason_phrases_exact);
  tcase_add_test(tc, unknown_statuses_are_error);
  tcase_add_test(tc, sink_status_mapping);
  tcase_add_test(tc, queue_bookkeeping);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(response_suite());
}
