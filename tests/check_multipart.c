/*
 * The multipart/form-data parser (src/multipart.c): every test body fed whole, split at every
 * byte position, byte by byte and in random segmentations, in the header shapes of AN3376's
 * Figure 6 (IE8) and Figure 7 (Firefox 7), a WebKit boundary, a 70-character boundary, with
 * near-boundaries and "\r\n--" planted in the file; truncated bodies and garbage; and the file
 * streamed through the real flash writer into the emulated chip, compared byte for byte.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "iap_writer.h"
#include "multipart.h"
#include "testlib.h"

/* --- a body builder ------------------------------------------------------------------------ */

struct buf {
  uint8_t *p;
  size_t len;
  size_t cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
  if (len == 0)
    return;  /* memcpy may not be given NULL, even for 0 bytes */
  if (b->len + len > b->cap) {
    b->cap = (b->len + len) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

static void puts_(struct buf *b, const char *s)
{
  put(b, s, strlen(s));
}

enum style {
  STYLE_IE8,        /* AN3376 Figure 6 */
  STYLE_FIREFOX7,   /* AN3376 Figure 7 */
  STYLE_WEBKIT,     /* a text field before and after the file, Chrome's header shape */
  STYLE_ODD,        /* preamble, lowercase names, Content-Type first, bare LF, padding,
                       epilogue */
};

static const char *const style_names[] = { "IE8", "Firefox 7", "WebKit", "odd" };

/* The body a browser of that style sends for file (n bytes) in field "datafile". */
static struct buf make_body(enum style style, const char *boundary, const uint8_t *file,
                            size_t n)
{
  struct buf b = { 0 };
  switch (style) {
  case STYLE_IE8:
    puts_(&b, "--");
    puts_(&b, boundary);
    puts_(&b, "\r\nContent-Disposition: form-data; name=\"datafile\"; "
              "filename=\"C:\\Documents and Settings\\user\\STM324xG_EVAL_SysTick.bin\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n");
    break;
  case STYLE_FIREFOX7:
    puts_(&b, "--");
    puts_(&b, boundary);
    puts_(&b, "\r\nContent-Disposition: form-data; name=\"datafile\"; "
              "filename=\"STM324xG_EVAL_SysTick.bin\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n");
    break;
  case STYLE_WEBKIT:
    puts_(&b, "--");
    puts_(&b, boundary);
    puts_(&b, "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
              "first field\r\n--");
    puts_(&b, boundary);
    puts_(&b, "\r\nContent-Disposition: form-data; name=\"datafile\"; filename=\"app.bin\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n");
    break;
  case STYLE_ODD:
    puts_(&b, "This is a preamble, to be ignored.\r\n--");
    puts_(&b, boundary);
    puts_(&b, " \t\r\ncontent-type: application/octet-stream\n"
              "CONTENT-DISPOSITION:form-data;FILENAME=\"a;b.bin\";NAME=datafile\n\n");
    break;
  }
  put(&b, file, n);
  puts_(&b, "\r\n--");
  puts_(&b, boundary);
  if (style == STYLE_WEBKIT) {
    puts_(&b, "\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nlast\r\n--");
    puts_(&b, boundary);
  }
  puts_(&b, "--\r\n");
  if (style == STYLE_ODD)
    puts_(&b, "epilogue, ignored too\r\n--");
  return b;
}

/* --- capturing what the parser reports -------------------------------------------------- */

struct capture {
  struct buf file;        /* bytes of the "datafile" part */
  struct buf other;       /* bytes of other parts, '|' after each */
  unsigned begins;
  unsigned ends;
  bool in_file;
  bool file_flag;         /* is_file of the datafile part */
  bool stop_in_data;      /* return false from part_data */
};

static bool cap_begin(void *ctx, const char *name, bool is_file)
{
  struct capture *c = ctx;
  ck_assert_uint_eq(c->begins, c->ends);  /* parts never nest */
  c->begins++;
  c->in_file = strcmp(name, "datafile") == 0;
  if (c->in_file)
    c->file_flag = is_file;
  return true;
}

static bool cap_data(void *ctx, const uint8_t *data, size_t len)
{
  struct capture *c = ctx;
  ck_assert_uint_gt(len, 0);
  if (c->stop_in_data)
    return false;
  put(c->in_file ? &c->file : &c->other, data, len);
  return true;
}

static bool cap_end(void *ctx)
{
  struct capture *c = ctx;
  c->ends++;
  if (!c->in_file)
    put(&c->other, "|", 1);
  c->in_file = false;
  return true;
}

static const struct multipart_callbacks cap_callbacks = { cap_begin, cap_data, cap_end };

static void cap_free(struct capture *c)
{
  free(c->file.p);
  free(c->other.p);
  memset(c, 0, sizeof(*c));
}

/* Feeds body in the pieces given by cuts (ascending offsets), then finishes. */
static enum multipart_status parse_pieces(const char *boundary, const struct buf *body,
                                          const size_t *cuts, size_t ncuts, struct capture *c)
{
  struct multipart_parser p;
  size_t at = 0;

  memset(c, 0, sizeof(*c));
  ck_assert(multipart_init(&p, boundary, strlen(boundary), &cap_callbacks, c));
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : body->len;
    multipart_feed(&p, body->p + at, end - at);
    at = end;
  }
  return multipart_finish(&p);
}

static void expect_file(const struct capture *c, const uint8_t *file, size_t n, const char *what)
{
  ck_assert_msg(c->file.len == n, "%s: datafile is %zu bytes, expected %zu", what, c->file.len,
                n);
  ck_assert_msg(n == 0 || memcmp(c->file.p, file, n) == 0, "%s: datafile bytes differ", what);
  ck_assert_msg(c->file_flag, "%s: the datafile part was not seen as a file", what);
  ck_assert_uint_eq(c->begins, c->ends);
}

/* A file with every trap for a boundary matcher planted in it. */
static uint8_t *trap_file(const char *boundary, size_t *n, uint32_t seed)
{
  struct buf f = { 0 };
  size_t blen = strlen(boundary);
  uint8_t noise[300];
  char near[128];

  tl_fill_random(noise, sizeof(noise), seed);
  put(&f, noise, 8);                        /* a vector table's worth */
  puts_(&f, "\r\n--");                      /* the start of every delimiter */
  put(&f, noise + 8, 40);
  puts_(&f, "\r\n-");
  puts_(&f, "\r\r\n--\r\n--");
  memcpy(near, "\r\n--", 4);                /* the boundary minus its last character */
  memcpy(near + 4, boundary, blen - 1);
  put(&f, near, 4 + blen - 1);
  put(&f, noise + 48, 20);
  memcpy(near + 4, boundary, blen);         /* the boundary with its last character changed */
  near[4 + blen - 1] ^= 0x01;
  put(&f, near, 4 + blen);
  puts_(&f, "\n--");                        /* the boundary after LF alone: not a delimiter */
  puts_(&f, boundary);
  puts_(&f, "x--");                         /* ... nor without CRLF */
  puts_(&f, boundary);
  put(&f, noise + 68, 200);
  puts_(&f, "\r\n--");                      /* a delimiter cut short by a CR */
  put(&f, boundary, blen / 2);
  puts_(&f, "\r\n--");
  put(&f, noise + 268, 32);
  puts_(&f, "\r");                          /* a CR last */
  *n = f.len;
  return f.p;
}

struct case_ {
  enum style style;
  const char *boundary;
};

static const char boundary70[] =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-.";

static const struct case_ cases[] = {
  { STYLE_IE8, "-----7db1672b29603a8" },
  { STYLE_FIREFOX7, "-----41184676334" },
  { STYLE_WEBKIT, "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
  { STYLE_ODD, "x" },
  { STYLE_FIREFOX7, boundary70 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void check_other(const struct capture *c, enum style style)
{
  if (style == STYLE_WEBKIT) {
    ck_assert_uint_eq(c->other.len, strlen("first field|last|"));
    ck_assert(memcmp(c->other.p, "first field|last|", c->other.len) == 0);
  } else {
    ck_assert_uint_eq(c->other.len, 0);
  }
}

/* --- tests --------------------------------------------------------------------------------- */

START_TEST(test_whole_body)
{
  const struct case_ *k = &cases[_i];
  size_t n;
  uint8_t *file = trap_file(k->boundary, &n, 100 + (uint32_t)_i);
  struct buf body = make_body(k->style, k->boundary, file, n);
  struct capture c;

  ck_assert_int_eq(parse_pieces(k->boundary, &body, NULL, 0, &c), MULTIPART_OK);
  expect_file(&c, file, n, style_names[k->style]);
  check_other(&c, k->style);
  cap_free(&c);
  free(body.p);
  free(file);
}
END_TEST

START_TEST(test_every_split)
{
  const struct case_ *k = &cases[_i];
  size_t n;
  uint8_t *file = trap_file(k->boundary, &n, 200 + (uint32_t)_i);
  struct buf body = make_body(k->style, k->boundary, file, n);
  struct capture c;
  char what[64];

  for (size_t cut = 0; cut <= body.len; cut++) {
    snprintf(what, sizeof(what), "%s split at %zu", style_names[k->style], cut);
    ck_assert_msg(parse_pieces(k->boundary, &body, &cut, 1, &c) == MULTIPART_OK, "%s", what);
    expect_file(&c, file, n, what);
    check_other(&c, k->style);
    cap_free(&c);
  }
  /* and at every pair of positions a few bytes apart: a delimiter in three pieces */
  for (size_t cut = 0; cut + 7 <= body.len; cut++) {
    size_t cuts[2] = { cut, cut + 1 + cut % 7 };
    snprintf(what, sizeof(what), "%s split at %zu and %zu", style_names[k->style], cuts[0],
             cuts[1]);
    ck_assert_msg(parse_pieces(k->boundary, &body, cuts, 2, &c) == MULTIPART_OK, "%s", what);
    expect_file(&c, file, n, what);
    cap_free(&c);
  }
  free(body.p);
  free(file);
}
END_TEST

START_TEST(test_byte_by_byte)
{
  const struct case_ *k = &cases[_i];
  size_t n;
  uint8_t *file = trap_file(k->boundary, &n, 300 + (uint32_t)_i);
  struct buf body = make_body(k->style, k->boundary, file, n);
  size_t *cuts = malloc(body.len * sizeof(*cuts));
  struct capture c;

  for (size_t i = 0; i < body.len; i++)
    cuts[i] = i;
  ck_assert_int_eq(parse_pieces(k->boundary, &body, cuts, body.len, &c), MULTIPART_OK);
  expect_file(&c, file, n, "byte by byte");
  check_other(&c, k->style);
  cap_free(&c);
  free(cuts);
  free(body.p);
  free(file);
}
END_TEST

START_TEST(test_random_segmentations)
{
  const struct case_ *k = &cases[_i];
  uint32_t rng = 0xC0FFEEu + (uint32_t)_i;
  /* A bigger file: random data with traps every few hundred bytes. */
  size_t trap_len;
  uint8_t *trap = trap_file(k->boundary, &trap_len, 400);
  struct buf f = { 0 };
  uint8_t noise[700];
  for (int i = 0; i < 20; i++) {
    tl_fill_random(noise, sizeof(noise), 500 + (uint32_t)i);
    put(&f, noise, 100 + tl_rand(&rng) % 600);
    put(&f, trap, trap_len);
  }
  struct buf body = make_body(k->style, k->boundary, f.p, f.len);
  size_t cuts[64];
  struct capture c;

  for (int round = 0; round < 300; round++) {
    size_t ncuts = 0, at = 0;
    while (ncuts < 64) {
      unsigned r = tl_rand(&rng);
      /* mostly small pieces (a delimiter spans several), sometimes large */
      at += (r & 3) ? 1 + (r >> 8) % 80 : 1 + (r >> 8) % 3000;
      if (at >= body.len)
        break;
      cuts[ncuts++] = at;
    }
    char what[64];
    snprintf(what, sizeof(what), "%s round %d", style_names[k->style], round);
    ck_assert_msg(parse_pieces(k->boundary, &body, cuts, ncuts, &c) == MULTIPART_OK, "%s",
                  what);
    expect_file(&c, f.p, f.len, what);
    check_other(&c, k->style);
    cap_free(&c);
  }
  free(body.p);
  free(f.p);
  free(trap);
}
END_TEST

/* Every truncation of a body fails, and what reached part_data is a prefix of the file. */
START_TEST(test_truncations)
{
  const struct case_ *k = &cases[_i];
  size_t n;
  uint8_t *file = trap_file(k->boundary, &n, 600 + (uint32_t)_i);
  struct buf body = make_body(k->style, k->boundary, file, n);
  struct capture c;
  /* The closing delimiter ends the body; only the CRLF and epilogue after it may go. */
  const char *close_tail = k->style == STYLE_ODD ? "--\r\nepilogue, ignored too\r\n--" : "--\r\n";
  size_t complete_from = body.len - strlen(close_tail) + 2;

  for (size_t len = 0; len < body.len; len++) {
    struct buf cut = { body.p, len, len };
    enum multipart_status st = parse_pieces(k->boundary, &cut, NULL, 0, &c);
    if (len >= complete_from) {
      ck_assert_msg(st == MULTIPART_OK, "cut at %zu, after the closing delimiter", len);
      expect_file(&c, file, n, "cut after the closing delimiter");
    } else {
      ck_assert_msg(st == MULTIPART_ERR_TRUNCATED, "cut at %zu of %zu: status %d", len,
                    body.len, st);
      ck_assert_msg(c.file.len <= n && (c.file.len == 0 || memcmp(c.file.p, file,
                                                                     c.file.len) == 0),
                    "cut at %zu: bytes that are not the file's start reached part_data", len);
    }
    cap_free(&c);
  }
  free(body.p);
  free(file);
}
END_TEST

START_TEST(test_ie8_figure6_exact)
{
  /* AN3376 Figure 6 as captured: the delimiters and headers byte for byte. */
  static const char body[] =
    "-------7db1672b29603a8\r\n"
    "Content-Disposition: form-data; name=\"datafile\"; filename=\"STM324xG_EVAL_SysTick.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "\x00\x00\x02\x20\xc9\x01\x01\x08"
    "\r\n-------7db1672b29603a8--\r\n";
  struct buf b = { (uint8_t *)body, sizeof(body) - 1, 0 };
  struct capture c;

  ck_assert_int_eq(parse_pieces("-----7db1672b29603a8", &b, NULL, 0, &c), MULTIPART_OK);
  expect_file(&c, (const uint8_t *)"\x00\x00\x02\x20\xc9\x01\x01\x08", 8, "Figure 6");
  cap_free(&c);
}
END_TEST

START_TEST(test_empty_file_and_no_parts)
{
  struct buf body = make_body(STYLE_FIREFOX7, "b0undary", NULL, 0);
  struct capture c;
  ck_assert_int_eq(parse_pieces("b0undary", &body, NULL, 0, &c), MULTIPART_OK);
  expect_file(&c, NULL, 0, "empty file");
  cap_free(&c);
  free(body.p);

  /* "--b--": a form with no parts at all is complete, and has no datafile. */
  struct buf none = { (uint8_t *)"--b--\r\n", 7, 0 };
  ck_assert_int_eq(parse_pieces("b", &none, NULL, 0, &c), MULTIPART_OK);
  ck_assert_uint_eq(c.begins, 0);
  cap_free(&c);
}
END_TEST

START_TEST(test_boundary_followed_by_text_is_data)
{
  /* RFC 2046: a delimiter is followed by "--" or by blanks and CRLF. A boundary line with
   * other text after it is not one, so its bytes belong to the file. */
  static const char body[] =
    "--B\r\n"
    "Content-Disposition: form-data; name=\"datafile\"; filename=\"f\"\r\n\r\n"
    "12\r\n--Bx34\r\n--B-5\r\n--B  \t6\r\n--B \r7"
    "\r\n--B--";
  static const char file[] = "12\r\n--Bx34\r\n--B-5\r\n--B  \t6\r\n--B \r7";
  struct buf b = { (uint8_t *)body, sizeof(body) - 1, 0 };
  struct capture c;

  for (size_t cut = 0; cut <= b.len; cut++) {
    ck_assert_int_eq(parse_pieces("B", &b, &cut, 1, &c), MULTIPART_OK);
    expect_file(&c, (const uint8_t *)file, sizeof(file) - 1, "boundary with text");
    cap_free(&c);
  }
}
END_TEST

START_TEST(test_garbage)
{
  uint8_t junk[5000];
  struct capture c;

  for (uint32_t seed = 1; seed <= 50; seed++) {
    tl_fill_random(junk, sizeof(junk), seed);
    struct buf b = { junk, sizeof(junk), 0 };
    ck_assert_int_ne(parse_pieces("----WebKitFormBoundaryQ", &b, NULL, 0, &c), MULTIPART_OK);
    ck_assert_uint_eq(c.file.len, 0);
    cap_free(&c);
  }
  /* A body that is not the form the header announced: refused at the preamble limit. */
  struct multipart_parser p;
  memset(&c, 0, sizeof(c));
  multipart_init(&p, "abc", 3, &cap_callbacks, &c);
  memset(junk, 'A', sizeof(junk));
  ck_assert_int_eq(multipart_feed(&p, junk, sizeof(junk)), MULTIPART_ERR_SYNTAX);
  ck_assert_str_eq(multipart_error(&p), "the body does not start with the multipart boundary "
                   "given in Content-Type");
  /* and the error sticks */
  ck_assert_int_eq(multipart_feed(&p, (const uint8_t *)"--abc--", 7), MULTIPART_ERR_SYNTAX);
  ck_assert_int_eq(multipart_finish(&p), MULTIPART_ERR_SYNTAX);
  cap_free(&c);

  /* part headers that never end */
  memset(&c, 0, sizeof(c));
  multipart_init(&p, "abc", 3, &cap_callbacks, &c);
  multipart_feed(&p, (const uint8_t *)"--abc\r\n", 7);
  for (int i = 0; i < 100; i++)
    multipart_feed(&p, junk, 100);
  ck_assert_int_eq(multipart_finish(&p), MULTIPART_ERR_SYNTAX);
  ck_assert_str_eq(multipart_error(&p), "a part's headers are longer than the parser takes");
  cap_free(&c);

  /* nothing at all */
  memset(&c, 0, sizeof(c));
  multipart_init(&p, "abc", 3, &cap_callbacks, &c);
  ck_assert_int_eq(multipart_finish(&p), MULTIPART_ERR_TRUNCATED);
  ck_assert_str_eq(multipart_error(&p), "the body holds no multipart boundary");
  cap_free(&c);
}
END_TEST

START_TEST(test_stop_from_callback)
{
  struct buf body = make_body(STYLE_FIREFOX7, "zz", (const uint8_t *)"abcdefgh", 8);
  struct multipart_parser p;
  struct capture c;

  memset(&c, 0, sizeof(c));
  c.stop_in_data = true;
  multipart_init(&p, "zz", 2, &cap_callbacks, &c);
  ck_assert_int_eq(multipart_feed(&p, body.p, body.len), MULTIPART_ERR_STOPPED);
  ck_assert_int_eq(multipart_finish(&p), MULTIPART_ERR_STOPPED);
  ck_assert(!multipart_complete(&p));
  cap_free(&c);
  free(body.p);
}
END_TEST

/* A part whose headers end with this Content-Transfer-Encoding line, file "abcd". */
static struct buf encoded_body(const char *encoding_line)
{
  struct buf b = { 0 };
  puts_(&b, "--zz\r\nContent-Disposition: form-data; name=\"datafile\"; filename=\"a.bin\"\r\n");
  puts_(&b, encoding_line);
  puts_(&b, "\r\n\r\nYWJjZA==\r\n--zz--\r\n");
  return b;
}

START_TEST(test_transfer_encoding)
{
  /* RFC 7578 4.7 deprecates Content-Transfer-Encoding; the board does not decode base64 or
   * quoted-printable, and says so instead of writing the encoded text to flash. */
  static const struct {
    const char *line;
    const char *encoding;
  } refused[] = {
    { "Content-Transfer-Encoding: base64", "base64" },
    { "content-transfer-encoding:BASE64 ", "BASE64" },
    { "Content-Transfer-Encoding: quoted-printable", "quoted-printable" },
    { "Content-Transfer-Encoding: x-uuencode; a=b", "x-uuencode" },
    { "Content-Transfer-Encoding: x-a-very-long-encoding-name", "x-a-very-long-encoding-" },
  };
  struct capture c;
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    struct buf body = encoded_body(refused[i].line);
    for (size_t cut = 0; cut <= body.len; cut++) {
      ck_assert_int_eq(parse_pieces("zz", &body, &cut, 1, &c), MULTIPART_ERR_ENCODING);
      ck_assert_uint_eq(c.begins, 0);   /* the part never reaches the receiver */
      ck_assert_uint_eq(c.file.len, 0);
      cap_free(&c);
    }
    struct multipart_parser p;
    memset(&c, 0, sizeof(c));
    multipart_init(&p, "zz", 2, &cap_callbacks, &c);
    ck_assert_int_eq(multipart_feed(&p, body.p, body.len), MULTIPART_ERR_ENCODING);
    ck_assert_str_eq(multipart_error(&p), "a part's Content-Transfer-Encoding is not 7bit, "
                     "8bit or binary: it is not decoded (RFC 7578 4.7)");
    ck_assert_str_eq(p.encoding, refused[i].encoding);
    cap_free(&c);
    free(body.p);
  }
  /* The identity encodings change nothing: the bytes are the file. */
  static const char *const identity[] = {
    "Content-Transfer-Encoding: binary", "Content-Transfer-Encoding: 8bit",
    "CONTENT-TRANSFER-ENCODING: 7BIT", "X-Other: base64",
  };
  for (size_t i = 0; i < sizeof(identity) / sizeof(identity[0]); i++) {
    struct buf body = encoded_body(identity[i]);
    ck_assert_int_eq(parse_pieces("zz", &body, NULL, 0, &c), MULTIPART_OK);
    expect_file(&c, (const uint8_t *)"YWJjZA==", 8, identity[i]);
    cap_free(&c);
    free(body.p);
  }
}
END_TEST

START_TEST(test_boundary_validation)
{
  struct multipart_parser p;
  char b71[72];
  memset(b71, 'a', 71);
  b71[71] = '\0';
  ck_assert_uint_eq(strlen(boundary70), 70);
  ck_assert(multipart_init(&p, boundary70, 70, &cap_callbacks, NULL));
  ck_assert(!multipart_init(&p, b71, 71, &cap_callbacks, NULL));
  ck_assert(!multipart_init(&p, "", 0, &cap_callbacks, NULL));
  ck_assert(!multipart_init(&p, "ab ", 3, &cap_callbacks, NULL));
  ck_assert(!multipart_init(&p, "a\rb", 3, &cap_callbacks, NULL));
  ck_assert(!multipart_init(&p, "a\nb", 3, &cap_callbacks, NULL));
  ck_assert(multipart_init(&p, "a b", 3, &cap_callbacks, NULL));
}
END_TEST

START_TEST(test_content_type)
{
  char b[MULTIPART_BOUNDARY_MAX + 1];

  ck_assert(multipart_boundary_from_content_type(
    "multipart/form-data; boundary=-----7db1672b29603a8", b, sizeof(b)));
  ck_assert_str_eq(b, "-----7db1672b29603a8");
  ck_assert(multipart_boundary_from_content_type(
    "Multipart/Form-Data;charset=utf-8;  BOUNDARY=\"a b;c\"", b, sizeof(b)));
  ck_assert_str_eq(b, "a b;c");
  ck_assert(multipart_boundary_from_content_type(
    "multipart/form-data; boundary=----WebKitFormBoundaryx7ZQ ", b, sizeof(b)));
  ck_assert_str_eq(b, "----WebKitFormBoundaryx7ZQ");
  ck_assert(!multipart_boundary_from_content_type("multipart/mixed; boundary=x", b, sizeof(b)));
  ck_assert(!multipart_boundary_from_content_type("multipart/form-data", b, sizeof(b)));
  ck_assert(!multipart_boundary_from_content_type("multipart/form-dataX; boundary=x", b,
                                                  sizeof(b)));
  ck_assert(!multipart_boundary_from_content_type("multipart/form-data; boundary=", b,
                                                  sizeof(b)));
  ck_assert(!multipart_boundary_from_content_type("application/octet-stream", b, sizeof(b)));
  char long_ct[200];
  snprintf(long_ct, sizeof(long_ct), "multipart/form-data; boundary=%sX", boundary70);
  ck_assert(!multipart_boundary_from_content_type(long_ct, b, sizeof(b)));
}
END_TEST

/* --- through the flash writer into the emulated chip --------------------------------------- */

static struct tl_flash flash;
static struct iap_writer writer;
static const struct image_area user_area = { TL_USER_BASE, TL_USER_END };

struct to_flash {
  bool in_file;
  struct iap_error err;
};

static bool flash_begin(void *ctx, const char *name, bool is_file)
{
  struct to_flash *t = ctx;
  (void)is_file;
  t->in_file = strcmp(name, "datafile") == 0;
  return true;
}

static bool flash_data(void *ctx, const uint8_t *data, size_t len)
{
  struct to_flash *t = ctx;
  return !t->in_file || iap_writer_write(&writer, data, len, &t->err) == IAP_OK;
}

static bool flash_end(void *ctx)
{
  struct to_flash *t = ctx;
  t->in_file = false;
  return true;
}

static const struct multipart_callbacks flash_callbacks = { flash_begin, flash_data, flash_end };

static void flash_setup(void)
{
  tl_flash_open(&flash);
  iap_writer_init(&writer, &user_area, flash.dev);
}

static void flash_teardown(void)
{
  tl_flash_close(&flash);
}

START_TEST(test_into_flash)
{
  const struct case_ *k = &cases[_i];
  size_t trap_len;
  uint8_t *trap = trap_file(k->boundary, &trap_len, 700);
  /* An application: valid vector table, traps inside, an odd size (not a word multiple). */
  size_t n = 150001;
  uint8_t *img = tl_app(n, 800 + (uint32_t)_i);
  for (size_t at = 1000; at + trap_len < n; at += 9973)
    memcpy(img + at, trap + 8, trap_len - 8);
  struct buf body = make_body(k->style, k->boundary, img, n);
  struct multipart_parser p;
  struct to_flash t = { 0 };
  struct iap_error err;
  struct iap_result res;
  uint32_t rng = 99;

  ck_assert_int_eq(iap_writer_begin(&writer, "HTTP", "test", 0, &err), IAP_OK);
  multipart_init(&p, k->boundary, strlen(k->boundary), &flash_callbacks, &t);
  for (size_t at = 0; at < body.len;) {
    size_t piece = 1 + tl_rand(&rng) % 1460;  /* TCP segments */
    if (piece > body.len - at)
      piece = body.len - at;
    ck_assert_int_eq(multipart_feed(&p, body.p + at, piece), MULTIPART_OK);
    at += piece;
  }
  ck_assert_int_eq(multipart_finish(&p), MULTIPART_OK);
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_OK);
  ck_assert_uint_eq(res.size, n);
  ck_assert(memcmp(tl_flash_at(&flash, TL_USER_BASE), img, n) == 0);
  /* nothing after the image: AN3376 4.4.1 stored the closing boundary there */
  ck_assert(tl_flash_is_erased(&flash, TL_USER_BASE + (uint32_t)n, 0x40000u - (uint32_t)n));
  free(body.p);
  free(img);
  free(trap);
}
END_TEST

START_TEST(test_truncated_into_flash_leaves_nothing_bootable)
{
  size_t n = 40000;
  uint8_t *img = tl_app(n, 900);
  struct buf body = make_body(STYLE_WEBKIT, "----WebKitFormBoundaryAbC", img, n);
  struct iap_error err;
  struct iap_result res;

  /* cut in the file, in the closing delimiter, and just before its final "--" */
  size_t cuts[] = { 300, body.len / 2, body.len - 12, body.len - 4, body.len - 3 };
  for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    struct multipart_parser p;
    struct to_flash t = { 0 };
    ck_assert_int_eq(iap_writer_begin(&writer, "HTTP", "test", 0, &err), IAP_OK);
    multipart_init(&p, "----WebKitFormBoundaryAbC", 25, &flash_callbacks, &t);
    ck_assert_int_eq(multipart_feed(&p, body.p, cuts[i]), MULTIPART_OK);
    ck_assert_int_eq(multipart_finish(&p), MULTIPART_ERR_TRUNCATED);
    iap_writer_abort(&writer, multipart_error(&p));
    ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE), 0xFFFFFFFFu);  /* SP slot erased */
    ck_assert_uint_eq(tl_flash_le32(&flash, TL_USER_BASE + 4), 0xFFFFFFFFu);
  }
  /* and the next, complete upload works */
  struct multipart_parser p;
  struct to_flash t = { 0 };
  ck_assert_int_eq(iap_writer_begin(&writer, "HTTP", "test", 0, &err), IAP_OK);
  multipart_init(&p, "----WebKitFormBoundaryAbC", 25, &flash_callbacks, &t);
  ck_assert_int_eq(multipart_feed(&p, body.p, body.len), MULTIPART_OK);
  ck_assert_int_eq(multipart_finish(&p), MULTIPART_OK);
  ck_assert_int_eq(iap_writer_finish(&writer, &res, &err), IAP_OK);
  ck_assert(memcmp(tl_flash_at(&flash, TL_USER_BASE), img, n) == 0);
  free(body.p);
  free(img);
}
END_TEST

static Suite *multipart_suite(void)
{
  Suite *s = suite_create("multipart");
  TCase *tc = tcase_create("parser");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_whole_body, 0, NCASES);
  tcase_add_loop_test(tc, test_every_split, 0, NCASES);
  tcase_add_loop_test(tc, test_byte_by_byte, 0, NCASES);
  tcase_add_loop_test(tc, test_random_segmentations, 0, NCASES);
  tcase_add_loop_test(tc, test_truncations, 0, NCASES);
  tcase_add_test(tc, test_ie8_figure6_exact);
  tcase_add_test(tc, test_empty_file_and_no_parts);
  tcase_add_test(tc, test_boundary_followed_by_text_is_data);
  tcase_add_test(tc, test_garbage);
  tcase_add_test(tc, test_stop_from_callback);
  tcase_add_test(tc, test_transfer_encoding);
  tcase_add_test(tc, test_boundary_validation);
  tcase_add_test(tc, test_content_type);
  suite_add_tcase(s, tc);

  TCase *tf = tcase_create("flash");
  tcase_set_timeout(tf, 60);
  tcase_add_checked_fixture(tf, flash_setup, flash_teardown);
  tcase_add_loop_test(tf, test_into_flash, 0, NCASES);
  tcase_add_test(tf, test_truncated_into_flash_leaves_nothing_bootable);
  suite_add_tcase(s, tf);
  return s;
}

int main(void)
{
  return tl_run(multipart_suite());
}
