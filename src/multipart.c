/* The streaming multipart/form-data parser (see multipart.h). */
#include "multipart.h"

#include <string.h>

#include "http_text.h"

/*
 * How delimiters are found without buffering data: a delimiter is CRLF "--" boundary, and
 * since a boundary holds no CR, the only CR in it is its first byte. So when a partial match
 * breaks, no later start of a match can hide inside the bytes matched so far: they are all
 * data, and only the byte that broke the match may start a new one (if it is a CR). The bytes
 * of a match are the delimiter's own bytes, so a match that spans feeds needs no copy of the
 * input: on a break they are emitted from p->delim.
 *
 * The body is parsed as if a CRLF came before its first byte, so a first delimiter at the
 * very start ("--boundary", no CRLF before it) matches like every other.
 */

static void set_error(struct multipart_parser *p, enum multipart_status status, const char *why)
{
  if (p->state == MP_FAILED)
    return;
  p->state = MP_FAILED;
  p->status = status;
  p->error = why;
}

static bool boundary_valid(const char *b, size_t len)
{
  if (len < 1 || len > MULTIPART_BOUNDARY_MAX)
    return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7E)
      return false;
  return b[len - 1] != ' ';  /* RFC 2046: bcharsnospace last */
}

bool multipart_init(struct multipart_parser *p, const char *boundary, size_t len,
                    const struct multipart_callbacks *cb, void *ctx)
{
  memset(p, 0, sizeof(*p));
  p->cb = cb;
  p->ctx = ctx;
  if (!boundary_valid(boundary, len)) {
    set_error(p, MULTIPART_ERR_SYNTAX, "the multipart boundary is not 1 to 70 printable "
              "characters");
    return false;
  }
  memcpy(p->delim, "\r\n--", 4);
  memcpy(p->delim + 4, boundary, len);
  p->delim_len = 4 + len;
  p->state = MP_PREAMBLE;
  p->matched = 2;  /* the CRLF assumed before the body */
  return true;
}

/* Bytes that are not part of a delimiter: a part's data, or preamble to skip. */
static bool emit(struct multipart_parser *p, const uint8_t *data, size_t len)
{
  if (len == 0)
    return true;
  if (!p->in_part) {
    p->preamble_bytes += (uint32_t)len;
    if (p->preamble_bytes > MULTIPART_PREAMBLE_MAX) {
      set_error(p, MULTIPART_ERR_SYNTAX, "the body does not start with the multipart "
                "boundary given in Content-Type");
      return false;
    }
    return true;
  }
  if (!p->cb->part_data(p->ctx, data, len)) {
    set_error(p, MULTIPART_ERR_STOPPED, "stopped by the receiver of the data");
    return false;
  }
  return true;
}

/*
 * Data (or preamble) up to the next delimiter. Returns the bytes consumed: all of them, or up
 * to and including a complete delimiter (the state is then MP_DELIM_TAIL). On error the state
 * is MP_FAILED.
 */
static size_t scan(struct multipart_parser *p, const uint8_t *in, size_t len)
{
  size_t i = 0;
  size_t run = 0;          /* start of the data not yet emitted */
  size_t match_at = 0;     /* where the current match began, when held_here */
  bool held_here = false;  /* the current match began in this input */

  while (i < len) {
    if (p->matched == 0) {
      const uint8_t *cr = memchr(in + i, '\r', len - i);
      if (cr == NULL) {
        i = len;
        break;
      }
      i = (size_t)(cr - in);
      match_at = i;
      held_here = true;
      p->matched = 1;
      i++;
      continue;
    }
    if (in[i] == (uint8_t)p->delim[p->matched]) {
      p->matched++;
      i++;
      if (p->matched == p->delim_len) {
        /* A whole delimiter: the data ends where it began. A match carried over from the
         * last feed means the data was all emitted then. */
        if (held_here && !emit(p, in + run, match_at - run))
          return i;
        p->matched = 0;
        p->state = MP_DELIM_TAIL;
        p->tail_len = 0;
        return i;
      }
      continue;
    }
    /* The match broke at in[i]: the bytes matched were data. */
    if (!held_here) {
      /* They came in an earlier feed (and maybe the start of this one): send them from the
       * delimiter, whose bytes they are. */
      if (!emit(p, (const uint8_t *)p->delim, p->matched))
        return i;
      run = i;
    }
    /* else they are in[match_at..i), already inside the run. */
    p->matched = 0;
    held_here = false;
    /* in[i] is looked at again: it may be the CR of a new match. */
  }
  if (p->matched > 0 && held_here)
    emit(p, in + run, match_at - run);  /* the matched bytes wait in p->matched */
  else if (p->matched == 0)
    emit(p, in + run, len - run);
  return len;
}

/* What followed a delimiter was not "--" nor blanks and CRLF: the delimiter was data. */
static void tail_failed(struct multipart_parser *p)
{
  uint8_t copy[sizeof(p->tail)];
  size_t n = p->tail_len;

  memcpy(copy, p->tail, n);
  p->tail_len = 0;
  p->state = p->in_part ? MP_DATA : MP_PREAMBLE;
  p->matched = 0;
  if (!emit(p, (const uint8_t *)p->delim, p->delim_len))
    return;
  /* The kept bytes are blanks, '-' and CR: no delimiter can end inside them. */
  scan(p, copy, n);
}

static bool end_part(struct multipart_parser *p)
{
  if (!p->in_part)
    return true;
  p->in_part = false;
  if (!p->cb->part_end(p->ctx)) {
    set_error(p, MULTIPART_ERR_STOPPED, "stopped by the receiver of the data");
    return false;
  }
  return true;
}

/* One byte after a delimiter. RFC 2046: delimiter, then "--" for the closing one, or
 * transport padding (blanks) and CRLF. Returns false when c was not taken: the delimiter
 * turned out to be data, and c is data (or the start of a delimiter) to scan again. */
static bool delim_tail(struct multipart_parser *p, uint8_t c)
{
  bool after_cr = p->tail_len > 0 && p->tail[p->tail_len - 1] == '\r';

  if (p->tail_len == 0 && c == '-') {
    p->tail[p->tail_len++] = c;
    return true;
  }
  if (p->tail_len == 1 && p->tail[0] == '-') {
    if (c != '-') {
      tail_failed(p);
      return false;
    }
    if (end_part(p))
      p->state = MP_EPILOGUE;
    return true;
  }
  if (after_cr) {
    if (c != '\n') {
      tail_failed(p);
      return false;
    }
    if (!end_part(p))
      return true;
    p->state = MP_HEADERS;
    p->line_len = 0;
    p->header_bytes = 0;
    p->name[0] = '\0';
    p->is_file = false;
    p->encoding[0] = '\0';
    return true;
  }
  if ((c == ' ' || c == '\t' || c == '\r') && p->tail_len < MULTIPART_PAD_MAX) {
    p->tail[p->tail_len++] = c;
    return true;
  }
  tail_failed(p);
  return false;
}

/* Content-Transfer-Encoding (RFC 7578 4.7: deprecated; RFC 2045 6.1): the identity ones say
 * the bytes are the data; anything else would need decoding, which this parser does not do.
 * Some parsers (python-multipart, formidable) decode base64 and quoted-printable; here such a
 * part is refused, its encoding kept to name it, never written as its encoded text. */
static void transfer_encoding(struct multipart_parser *p, const char *value)
{
  size_t n = strcspn(value, " \t;");
  if (n >= sizeof(p->encoding))
    n = sizeof(p->encoding) - 1;
  memcpy(p->encoding, value, n);
  p->encoding[n] = '\0';
  if (http_text_equal_ci(p->encoding, "binary") || http_text_equal_ci(p->encoding, "8bit")
      || http_text_equal_ci(p->encoding, "7bit"))
    p->encoding[0] = '\0';
}

/* Content-Disposition: form-data; name="field"; filename="file.bin" (RFC 7578 4.2). */
static void header_line(struct multipart_parser *p, const char *line)
{
  const char *value = http_header_value(line, "content-disposition");
  char type[16];
  bool cut;

  if (value == NULL) {
    value = http_header_value(line, "content-transfer-encoding");
    if (value != NULL)
      transfer_encoding(p, value);
    return;
  }
  size_t n = strcspn(value, ";");
  while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
    n--;
  if (n >= sizeof(type))
    return;
  memcpy(type, value, n);
  type[n] = '\0';
  if (!http_text_equal_ci(type, "form-data"))
    return;
  if (!http_find_param(value + n, "name", p->name, sizeof(p->name), &cut) || cut)
    p->name[0] = '\0';  /* no name, or one longer than any this server reads */
  char ignored[2];
  p->is_file = http_find_param(value + n, "filename", ignored, sizeof(ignored), &cut)
               || http_find_param(value + n, "filename*", ignored, sizeof(ignored), &cut);
}

static void header_byte(struct multipart_parser *p, uint8_t c)
{
  if (++p->header_bytes > MULTIPART_HEADERS_MAX) {
    set_error(p, MULTIPART_ERR_SYNTAX, "a part's headers are longer than the parser takes");
    return;
  }
  if (c != '\n') {
    if (p->line_len < sizeof(p->line) - 1)
      p->line[p->line_len++] = (char)c;
    return;
  }
  if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
    p->line_len--;
  p->line[p->line_len] = '\0';
  if (p->line_len > 0) {
    header_line(p, p->line);
    p->line_len = 0;
    return;
  }
  /* The blank line: the part's data follows, unless it needs decoding. */
  if (p->encoding[0] != '\0') {
    set_error(p, MULTIPART_ERR_ENCODING, "a part's Content-Transfer-Encoding is not 7bit, "
              "8bit or binary: it is not decoded (RFC 7578 4.7)");
    return;
  }
  p->in_part = true;
  p->parts++;
  p->state = MP_DATA;
  p->matched = 0;
  if (!p->cb->part_begin(p->ctx, p->name, p->is_file))
    set_error(p, MULTIPART_ERR_STOPPED, "stopped by the receiver of the data");
}

enum multipart_status multipart_feed(struct multipart_parser *p, const uint8_t *data,
                                     size_t len)
{
  size_t i = 0;
  uint32_t base = p->consumed;

  while (i < len && p->state != MP_FAILED) {
    switch (p->state) {
    case MP_PREAMBLE:
    case MP_DATA:
      i += scan(p, data + i, len - i);
      break;
    case MP_DELIM_TAIL:
      if (delim_tail(p, data[i]))
        i++;
      break;
    case MP_HEADERS:
      p->consumed = base + (uint32_t)(i + 1);  /* part_begin may ask, at the blank line */
      header_byte(p, data[i++]);
      break;
    case MP_EPILOGUE:
      i = len;
      break;
    case MP_FAILED:
      break;
    }
  }
  p->consumed = base + (uint32_t)len;
  return p->status;
}

uint32_t multipart_consumed(const struct multipart_parser *p)
{
  return p->consumed;
}

enum multipart_status multipart_finish(struct multipart_parser *p)
{
  if (p->state == MP_FAILED || p->state == MP_EPILOGUE)
    return p->status;
  if (p->state == MP_PREAMBLE && p->parts == 0)
    set_error(p, MULTIPART_ERR_TRUNCATED, "the body holds no multipart boundary");
  else
    set_error(p, MULTIPART_ERR_TRUNCATED, "the upload ended before the closing boundary "
              "(incomplete body)");
  return p->status;
}

const char *multipart_error(const struct multipart_parser *p)
{
  return p->status == MULTIPART_OK ? "" : p->error;
}

bool multipart_complete(const struct multipart_parser *p)
{
  return p->state == MP_EPILOGUE;
}

bool multipart_boundary_from_content_type(const char *content_type, char *out,
                                          size_t out_size)
{
  static const char type[] = "multipart/form-data";
  size_t n = sizeof(type) - 1;
  bool cut;

  while (*content_type == ' ' || *content_type == '\t')
    content_type++;
  if (!http_prefix_ci(content_type, type))
    return false;
  const char *rest = content_type + n;
  if (*rest != '\0' && *rest != ';' && *rest != ' ' && *rest != '\t')
    return false;
  if (!http_find_param(rest, "boundary", out, out_size, &cut) || cut)
    return false;
  return boundary_valid(out, strlen(out));
}
