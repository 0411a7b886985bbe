/*
 * A streaming multipart/form-data parser (RFC 7578, RFC 2046 section 5.1.1), independent of
 * any network stack: feed it the request body in pieces of any size, split anywhere, and it
 * calls back with each part's field name and the part's bytes, exactly the bytes between the
 * part's blank line and the CRLF that starts the next delimiter. What it promises:
 *  - no byte of a delimiter ever reaches part_data (AN3376's limitation 4.4.1 stored the
 *    closing boundary in flash), and every byte of the data does, "\r\n--", partial
 *    boundaries and boundary-like lines with other text after them included;
 *  - a delimiter split across feeds at any byte is found; boundaries of 1 to 70 characters
 *    (RFC 2046), so IE8's "-----7db1672b29603a8", Firefox's "-----41184676334" and WebKit's
 *    "----WebKitFormBoundary..." alike;
 *  - header lines in any order, names in any case, CRLF or bare LF; the file name is read
 *    only to say that the part is a file, never stored;
 *  - a part with a Content-Transfer-Encoding other than 7bit, 8bit or binary (base64,
 *    quoted-printable: RFC 7578 4.7 deprecates them) is refused before any of its bytes is
 *    passed on (MULTIPART_ERR_ENCODING, the encoding's name in `encoding`): it is not
 *    decoded;
 *  - the body is complete only with the closing delimiter ("--boundary--"): a body that ends
 *    before it is an error, never a silently truncated file;
 *  - memory is the struct: no allocation, no recursion deeper than one level.
 */
#ifndef IAPD_MULTIPART_H
#define IAPD_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_opts.h"

#define MULTIPART_BOUNDARY_MAX 70   /* RFC 2046: 1 to 70 characters */
#define MULTIPART_NAME_MAX 64       /* longest field name kept (longer ones are cut) */
#define MULTIPART_PAD_MAX 16        /* blanks allowed after a delimiter (transport padding) */

enum multipart_status {
  MULTIPART_OK = 0,
  MULTIPART_ERR_SYNTAX,     /* not multipart/form-data as RFC 7578 writes it */
  MULTIPART_ERR_STOPPED,    /* a callback returned false: the consumer says why */
  MULTIPART_ERR_TRUNCATED,  /* the body ended before the closing delimiter */
  MULTIPART_ERR_ENCODING,   /* a part has a Content-Transfer-Encoding this parser does not
                               decode (anything but 7bit, 8bit, binary) */
};

struct multipart_callbacks {
  /* A part's headers are complete. name is its form field name ("" when it has none);
   * is_file is true when its Content-Disposition has a filename. False stops the parser. */
  bool (*part_begin)(void *ctx, const char *name, bool is_file);
  /* Bytes of the current part, in order. False stops the parser. */
  bool (*part_data)(void *ctx, const uint8_t *data, size_t len);
  /* The current part ended at a delimiter. False stops the parser. */
  bool (*part_end)(void *ctx);
};

enum multipart_state {
  MP_PREAMBLE,      /* before the first delimiter: skipped */
  MP_DELIM_TAIL,    /* after a delimiter: "--", or blanks and CRLF */
  MP_HEADERS,       /* a part's header lines */
  MP_DATA,          /* a part's bytes */
  MP_EPILOGUE,      /* after the closing delimiter: skipped */
  MP_FAILED,
};

struct multipart_parser {
  const struct multipart_callbacks *cb;
  void *ctx;
  enum multipart_state state;
  enum multipart_status status;
  const char *error;                 /* static text when status != MULTIPART_OK */

  char delim[4 + MULTIPART_BOUNDARY_MAX];  /* "\r\n--" boundary, not NUL-terminated */
  size_t delim_len;
  size_t matched;                    /* bytes of delim matched so far */
  bool in_part;                      /* a part began and has not ended */
  uint32_t preamble_bytes;
  uint8_t tail[MULTIPART_PAD_MAX + 2];  /* what followed the last delimiter */
  size_t tail_len;

  char line[MULTIPART_LINE_MAX];     /* the part header line being read (cut if longer) */
  size_t line_len;
  uint32_t header_bytes;             /* of the current part's header block */
  char name[MULTIPART_NAME_MAX];
  bool is_file;
  char encoding[24];                 /* a Content-Transfer-Encoding refused, "" if none (cut) */
  unsigned parts;                    /* parts begun */
  uint32_t consumed;                 /* body bytes taken; in part_begin, where its data starts */
};

/* Sets the parser up for `boundary` (len bytes, without the leading "--"). False when the
 * boundary is not 1 to 70 printable characters not ending in a blank. */
bool multipart_init(struct multipart_parser *p, const char *boundary, size_t len,
                    const struct multipart_callbacks *cb, void *ctx);

/* Feeds the next len bytes of the body. Once an error is returned, it is returned again. */
enum multipart_status multipart_feed(struct multipart_parser *p, const uint8_t *data,
                                     size_t len);

/* The body ended: MULTIPART_OK only after the closing delimiter. */
enum multipart_status multipart_finish(struct multipart_parser *p);

/* Why the parser stopped, for the client (static text); "" when it did not. */
const char *multipart_error(const struct multipart_parser *p);

/* Body bytes taken so far; called from part_begin, the offset of the part's first byte. */
uint32_t multipart_consumed(const struct multipart_parser *p);

/* True after the closing delimiter. */
bool multipart_complete(const struct multipart_parser *p);

/* Reads a Content-Type header value: true when it is multipart/form-data (any case) with a
 * valid boundary parameter (token or quoted), copied NUL-terminated into out. */
bool multipart_boundary_from_content_type(const char *content_type, char *out,
                                          size_t out_size);

#endif
