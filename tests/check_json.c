/*
 * The JSON writer: exact output for nesting, numbers and every escape; invalid UTF-8 turned
 * into U+FFFD; misuse and the size cap fail the writer instead of producing bad JSON.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testlib.h"

static struct json j;

static void setup(void)
{
  json_init(&j, 4096);
}

static void teardown(void)
{
  json_free(&j);
}

/* The writer's text must be exactly want. */
#define assert_json(want)                                                                  \
  do {                                                                                     \
    ck_assert_msg(json_ok(&j), "writer failed");                                          \
    ck_assert_ptr_nonnull(json_text(&j));                                                  \
    ck_assert_str_eq(json_text(&j), (want));                                               \
    ck_assert_uint_eq(json_len(&j), strlen(want));                                         \
  } while (0)

START_TEST(nesting_and_commas)
{
  json_object_begin(&j);
  json_key(&j, "a");
  json_uint(&j, 1);
  json_key(&j, "b");
  json_array_begin(&j);
  json_bool(&j, true);
  json_bool(&j, false);
  json_null(&j);
  json_object_begin(&j);
  json_object_end(&j);
  json_array_begin(&j);
  json_array_end(&j);
  json_array_end(&j);
  json_key(&j, "c");
  json_string(&j, "x");
  json_object_end(&j);
  assert_json("{\"a\":1,\"b\":[true,false,null,{},[]],\"c\":\"x\"}");
}
END_TEST

START_TEST(numbers)
{
  json_array_begin(&j);
  json_uint(&j, 0);
  json_uint(&j, UINT64_MAX);
  json_int(&j, -1);
  json_int(&j, INT64_MIN);
  json_array_end(&j);
  assert_json("[0,18446744073709551615,-1,-9223372036854775808]");
}
END_TEST

START_TEST(escapes)
{
  json_string(&j, "q\" b\\ s/ \b\f\n\r\t \x01\x1f\x7f");
  assert_json("\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f\x7f\"");
}
END_TEST

START_TEST(key_escaped)
{
  json_object_begin(&j);
  json_key(&j, "a\"b");
  json_null(&j);
  json_object_end(&j);
  assert_json("{\"a\\\"b\":null}");
}
END_TEST

START_TEST(valid_utf8_kept)
{
  /* e acute (2 bytes), euro sign (3), U+1F600 (4), U+10FFFF (the last code point) */
  json_string(&j, "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
  assert_json("\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
}
END_TEST

#define FFFD "\xef\xbf\xbd"

START_TEST(invalid_utf8_replaced)
{
  /* a stray continuation byte, a lone 0xFF, an overlong '/', a surrogate, above U+10FFFF,
   * a sequence cut short by the end */
  static const char in[] = "\x80|\xff|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82";
  json_string_len(&j, in, sizeof(in) - 1);
  assert_json("\"" FFFD "|" FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD
              "|" FFFD FFFD "\"");
}
END_TEST

START_TEST(nul_inside_length)
{
  json_string_len(&j, "a\0b", 3);
  assert_json("\"a\\u0000b\"");
}
END_TEST

START_TEST(stringf)
{
  json_stringf(&j, "0x%08x", 0x80101c1u);
  assert_json("\"0x080101c1\"");
}
END_TEST

START_TEST(value_without_key_fails)
{
  json_object_begin(&j);
  json_uint(&j, 1);
  ck_assert(!json_ok(&j));
  json_object_end(&j);
  ck_assert_ptr_null(json_text(&j));
}
END_TEST

START_TEST(key_in_array_fails)
{
  json_array_begin(&j);
  json_key(&j, "a");
  ck_assert(!json_ok(&j));
}
END_TEST

START_TEST(mismatched_end_fails)
{
  json_object_begin(&j);
  json_array_end(&j);
  ck_assert(!json_ok(&j));
}
END_TEST

START_TEST(unfinished_has_no_text)
{
  json_object_begin(&j);
  json_key(&j, "a");
  ck_assert(json_ok(&j));
  ck_assert_ptr_null(json_text(&j));
  json_uint(&j, 1);
  ck_assert_ptr_null(json_text(&j));
  json_object_end(&j);
  assert_json("{\"a\":1}");
}
END_TEST

START_TEST(two_top_level_values_fail)
{
  json_uint(&j, 1);
  json_uint(&j, 2);
  ck_assert(!json_ok(&j));
  ck_assert_ptr_null(json_text(&j));
}
END_TEST

START_TEST(cap_fails_not_truncates)
{
  struct json small;
  json_init(&small, 8);
  json_string(&small, "123456");      /* 8 bytes with the quotes: fits */
  ck_assert(json_ok(&small));
  ck_assert_str_eq(json_text(&small), "\"123456\"");
  json_free(&small);

  json_init(&small, 8);
  json_string(&small, "1234567");     /* 9 bytes */
  ck_assert(!json_ok(&small));
  ck_assert_ptr_null(json_text(&small));
  ck_assert_ptr_null(json_take(&small, NULL));
  json_free(&small);
}
END_TEST

START_TEST(depth_limit)
{
  for (int i = 0; i < JSON_MAX_DEPTH; i++)
    json_array_begin(&j);
  ck_assert(json_ok(&j));
  json_array_begin(&j);
  ck_assert(!json_ok(&j));
}
END_TEST

START_TEST(take_hands_over)
{
  size_t len = 0;
  json_array_begin(&j);
  json_array_end(&j);
  char *text = json_take(&j, &len);
  ck_assert_str_eq(text, "[]");
  ck_assert_uint_eq(len, 2);
  free(text);
}
END_TEST

START_TEST(grows_past_first_allocation)
{
  char big[3000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  json_string(&j, big);
  ck_assert(json_ok(&j));
  ck_assert_uint_eq(json_len(&j), sizeof(big) - 1 + 2);
}
END_TEST

static Suite *json_suite(void)
{
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("writer");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, nesting_and_commas);
  tcase_add_test(tc, numbers);
  tcase_add_test(tc, escapes);
  tcase_add_test(tc, key_escaped);
  tcase_add_test(tc, valid_utf8_kept);
  tcase_add_test(tc, invalid_utf8_replaced);
  tcase_add_test(tc, nul_inside_length);
  tcase_add_test(tc, stringf);
  tcase_add_test(tc, value_without_key_fails);
  tcase_add_test(tc, key_in_array_fails);
  tcase_add_test(tc, mismatched_end_fails);
  tcase_add_test(tc, unfinished_has_no_text);
  tcase_add_test(tc, two_top_level_values_fail);
  tcase_add_test(tc, cap_fails_not_truncates);
  tcase_add_test(tc, depth_limit);
  tcase_add_test(tc, take_hands_over);
  tcase_add_test(tc, grows_past_first_allocation);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(json_suite());
}
