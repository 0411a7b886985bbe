/*
 * The JSON string escape of src/ (src/json_escape.c): exact bytes for quotes, backslashes and
 * every control character, bytes copied as they are otherwise, and cuts that never split an
 * escape nor write past the buffer.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "json_escape.h"
#include "testlib.h"

#define GUARD '#'

/* Escapes text into a buffer of out_size bytes with guard bytes after it; checks the return
 * value, the exact output and that nothing was written past out_size. */
static void check_escape(const char *text, size_t out_size, const char *want, size_t want_full)
{
  char buf[512];
  ck_assert_uint_lt(out_size + 8, sizeof(buf));
  memset(buf, GUARD, sizeof(buf));
  size_t n = json_escape_string(text, buf, out_size);
  ck_assert_uint_eq(n, want_full);
  if (out_size > 0)
    ck_assert_str_eq(buf, want);
  for (size_t i = out_size; i < out_size + 8; i++)
    ck_assert_int_eq(buf[i], GUARD);
}

/* The whole text fits: the result is exactly want. */
#define ESCAPES(text, want) check_escape(text, 256, want, sizeof(want) - 1)

START_TEST(plain_text_is_copied)
{
  ESCAPES("", "");
  ESCAPES("image too large", "image too large");
  ESCAPES("0x08010000-0x080FFFFF: 983040 bytes", "0x08010000-0x080FFFFF: 983040 bytes");
  ESCAPES("/ ' < > & ~ \x7f", "/ ' < > & ~ \x7f");  /* nothing else needs an escape */
}
END_TEST

START_TEST(quote_and_backslash)
{
  ESCAPES("\"", "\\\"");
  ESCAPES("\\", "\\\\");
  ESCAPES("say \"hi\" to C:\\boot", "say \\\"hi\\\" to C:\\\\boot");
  ESCAPES("\\\"", "\\\\\\\"");
}
END_TEST

START_TEST(every_control_character)
{
  for (unsigned ch = 1; ch < 0x20; ch++) {
    char text[4] = { 'a', (char)ch, 'b', '\0' };
    char want[16];
    snprintf(want, sizeof(want), "a\\u%04xb", ch);
    check_escape(text, 256, want, 8);
  }
  ESCAPES("\r\n\t", "\\u000d\\u000a\\u0009");
  ESCAPES("\x1f", "\\u001f");
  ESCAPES("\x20", " ");
}
END_TEST

START_TEST(utf8_passes_through)
{
  ESCAPES("\xc3\xa9t\xc3\xa9 \xe2\x82\xac", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac");
  ESCAPES("\xff\xfe", "\xff\xfe");  /* not UTF-8: still copied, never dropped */
}
END_TEST

START_TEST(cut_between_escapes)
{
  /* room for 4 bytes and the NUL */
  check_escape("abcdef", 5, "abcd", 6);
  check_escape("ab\"cd", 5, "ab\\\"", 6);
  check_escape("abc\"d", 5, "abc", 6);          /* \" would need 2, 1 is left */
  check_escape("a\x01", 5, "a", 7);             /* \u0001 does not fit: not half of it */
  check_escape("a\x01z", 8, "a\\u0001", 8);
  check_escape("ab\x01z", 8, "ab", 9);
  check_escape("a\"bcdefgh", 3, "a", 10);       /* after a cut, nothing: out is a prefix */
  check_escape("x", 1, "", 1);
  check_escape("", 1, "", 0);
  check_escape("abc", 0, "", 3);                /* no room at all: nothing written */
}
END_TEST

START_TEST(result_is_valid_in_a_json_string)
{
  char text[128];
  char out[1024];
  for (unsigned i = 0; i < 127; i++)
    text[i] = (char)(i + 1);
  text[127] = '\0';
  size_t n = json_escape_string(text, out, sizeof(out));
  ck_assert_uint_eq(n, strlen(out));
  /* 31 controls as 6 bytes, 2 characters as 2, the other 94 as 1 */
  ck_assert_uint_eq(n, 31u * 6u + 2u * 2u + 94u);
  for (size_t i = 0; i < n; i++) {
    ck_assert_uint_ge((unsigned char)out[i], 0x20);
    if (out[i] == '"')
      ck_assert_int_eq(out[i - 1], '\\');
  }
}
END_TEST

static Suite *json_escape_suite(void)
{
  Suite *s = suite_create("json_escape");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, plain_text_is_copied);
  tcase_add_test(tc, quote_and_backslash);
  tcase_add_test(tc, every_control_character);
  tcase_add_test(tc, utf8_passes_through);
  tcase_add_test(tc, cut_between_escapes);
  tcase_add_test(tc, result_is_valid_in_a_json_string);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return tl_run(json_escape_suite());
}
