/*
 * Uploads over HTTP into the image sink (the flash writer): POST /upload.cgi, the browser's
 * multipart/form-data form with its file in the field "datafile", behind a session; and
 * PUT /firmware (or POST with Content-Type application/octet-stream), the raw image behind
 * HTTP Basic auth, for scripts, answered in JSON. What it promises:
 *  - a Content-Length the user flash cannot hold gets 413 before anything is erased; a body
 *    with neither Content-Length nor chunked coding gets 411;
 *  - bytes reach the sink as they arrive, and only the file's bytes: no other field, no
 *    multipart delimiter;
 *  - the first refusal is answered at once with its reason and the sink is aborted, leaving
 *    nothing bootable: the sink's (422 not an image for this address, 413 too large, 409
 *    another upload holds the flash) or the form's (400 no datafile field, 422 two of them,
 *    415 a part in base64 or quoted-printable, which is not decoded);
 *  - at the body's end the sink commits, and the answer says the size, the CRC-32 of what
 *    was read back from flash and the address: the done page, or {"ok":true,...}.
 */
#ifndef IAPD_HTTP_UPLOAD_H
#define IAPD_HTTP_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image_sink.h"
#include "multipart.h"

/* One upload, form (HTTP_H_MULTIPART) or raw (HTTP_H_RAW). */
struct http_upload_state {
  bool active;                        /* the sink was begun and not yet finished or aborted */
  bool in_datafile;                   /* the form's part being read is the file */
  bool datafile_seen;
  uint32_t bytes;                     /* taken by the sink */
  struct iap_error err;
  struct multipart_parser mp;         /* the form's parser (unused for raw) */
};

struct http_conn;

/* Routes (http_routes.c). */
void http_upload_form(struct http_conn *c, uint32_t now_ms);      /* POST /upload.cgi */
/* PUT /firmware, and POST /firmware with Content-Type application/octet-stream: a type no
 * cross-site form can send without a CORS preflight, so a POST of another type gets 415. */
void http_upload_raw(struct http_conn *c, uint32_t now_ms);

/* The body's bytes as they arrive, and its end: commit and answer. */
void http_upload_body(struct http_conn *c, const uint8_t *data, size_t len);
void http_upload_done(struct http_conn *c);

/* True while the connection's upload holds the sink. */
bool http_upload_active(const struct http_conn *c);

/* Ends the upload in progress, if any, without commit; why goes to the log. */
void http_upload_abort(struct http_conn *c, const char *why);

#endif
