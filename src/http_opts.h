/*
 * Compile-time limits of the HTTP IAP server, with guarded defaults (override with -D or in
 * the target's build). Every buffer the server owns is sized here, so its RAM is known at
 * link time: HTTP_MAX_CONNECTIONS connection structs, each holding one header line, one
 * multipart part-header line and one short dynamic text; plus HTTP_SESSION_MAX sessions.
 */
#ifndef IAPD_HTTP_OPTS_H
#define IAPD_HTTP_OPTS_H

#if !defined USE_IAP_HTTP
#define USE_IAP_HTTP 1
#endif

#if !defined HTTP_PORT
#define HTTP_PORT 80
#endif

/* Connections served at once. When all are taken, a new one takes the place of the one that
 * has waited longest for a request, or else of the one furthest behind the minimum body rate
 * (http_server.c); only when every one is working at speed is the new one refused (RST). A
 * browser opens two or three; lwIP's MEMP_NUM_TCP_PCB must leave room for them plus
 * handshakes and closing connections (which lwIP reclaims first, src/lwipopts.h). */
#if !defined HTTP_MAX_CONNECTIONS
#define HTTP_MAX_CONNECTIONS 4
#endif

/* A request's header block (request line to the blank line) may be this long; longer gets
 * 431 (RFC 6585). Chromium sends about 830 bytes before cookies. */
#if !defined HTTP_HEADER_BLOCK_MAX
#define HTTP_HEADER_BLOCK_MAX 8192
#endif

/* One header line is kept while it is parsed. A longer line is skipped when it is a header
 * the server does not read (User-Agent, Accept...); when the server needs it (Cookie,
 * Authorization, Content-Type...) the request gets 431. */
#if !defined HTTP_LINE_MAX
#define HTTP_LINE_MAX 1024
#endif

/* Longest request target (path and query); longer gets 414. */
#if !defined HTTP_TARGET_MAX
#define HTTP_TARGET_MAX 256
#endif

/* Longest Host header value kept, with its NUL: a longer one gets 431. The Origin (or the
 * origin of the Referer) of a POST or PUT must name the same host and port (CSRF). */
#if !defined HTTP_HOST_MAX
#define HTTP_HOST_MAX 64
#endif

/* Longest urlencoded login body (username=...&password=...); longer gets 413. */
#if !defined HTTP_FORM_MAX
#define HTTP_FORM_MAX 256
#endif

/* AN3376's login: User ID "user", password "stm32" (iapd: --http-user, --http-password). */
#if !defined HTTP_DEFAULT_USER
#define HTTP_DEFAULT_USER "user"
#endif
#if !defined HTTP_DEFAULT_PASSWORD
#define HTTP_DEFAULT_PASSWORD "stm32"
#endif

#if !defined HTTP_USER_MAX
#define HTTP_USER_MAX 32         /* bytes of a user name, without the NUL */
#endif
#if !defined HTTP_PASSWORD_MAX
#define HTTP_PASSWORD_MAX 64     /* bytes of a password, without the NUL */
#endif

/* Sessions (logins) kept at once; a new login past this evicts the least recently used. */
#if !defined HTTP_SESSION_MAX
#define HTTP_SESSION_MAX 4
#endif
#if !defined HTTP_SESSION_TOKEN_BYTES
#define HTTP_SESSION_TOKEN_BYTES 16   /* 128 random bits, sent as 32 hex digits */
#endif
/* A session ends after this long without a request. */
#if !defined HTTP_SESSION_TIMEOUT_MS
#define HTTP_SESSION_TIMEOUT_MS (10u * 60u * 1000u)
#endif

/* Failed logins (form or Basic) in a row before each further attempt must wait; the wait
 * doubles with each further failure, from HTTP_THROTTLE_BASE_MS up to HTTP_THROTTLE_MAX_MS. */
#if !defined HTTP_THROTTLE_FREE_FAILURES
#define HTTP_THROTTLE_FREE_FAILURES 3
#endif
#if !defined HTTP_THROTTLE_BASE_MS
#define HTTP_THROTTLE_BASE_MS 1000u
#endif
#if !defined HTTP_THROTTLE_MAX_MS
#define HTTP_THROTTLE_MAX_MS 30000u
#endif

/* A connection with nothing received or sent for this long is closed; an upload on it is
 * aborted and leaves nothing bootable. */
#if !defined HTTP_IDLE_TIMEOUT_MS
#define HTTP_IDLE_TIMEOUT_MS 20000u
#endif

/* A request head must be complete (its blank line in) this long after its first byte, or it
 * is answered 408 and the connection closed: a head trickled a byte at a time holds a
 * connection no longer than this. A browser sends its head in one segment. */
#if !defined HTTP_HEAD_TIMEOUT_MS
#define HTTP_HEAD_TIMEOUT_MS 5000u
#endif

/* A request body must arrive at HTTP_BODY_MIN_RATE bytes per second at least, averaged over
 * each HTTP_BODY_RATE_WINDOW_MS from the end of the head; a slower one is answered 408, its
 * upload aborted (nothing bootable) and the connection closed. The window is long enough for
 * the chip's longest stall, a 128 KiB sector erase (2 s at most, RM0090), and the rate low
 * enough for any link that still carries Ethernet. */
#if !defined HTTP_BODY_MIN_RATE
#define HTTP_BODY_MIN_RATE 1024u
#endif
#if !defined HTTP_BODY_RATE_WINDOW_MS
#define HTTP_BODY_RATE_WINDOW_MS 10000u
#endif

/* After an error answered before the whole body arrived, up to this many body bytes are read
 * and dropped, so that the client reads the answer instead of a reset. */
#if !defined HTTP_DRAIN_MAX
#define HTTP_DRAIN_MAX (2u * 1024u * 1024u)
#endif

/* Room for the status line and headers of one response. */
#if !defined HTTP_RESPONSE_HEAD_MAX
#define HTTP_RESPONSE_HEAD_MAX 512
#endif

/* Room for the text put into a page (a message, the size and CRC of an upload). */
#if !defined HTTP_PAGE_TEXT_MAX
#define HTTP_PAGE_TEXT_MAX 400
#endif

/* Longest line of a multipart part's headers that is kept (Content-Disposition with the
 * field name); the rest of a longer line, a long file name, is skipped. */
#if !defined MULTIPART_LINE_MAX
#define MULTIPART_LINE_MAX 256
#endif
/* A part's header block may be this long in all. */
#if !defined MULTIPART_HEADERS_MAX
#define MULTIPART_HEADERS_MAX 4096
#endif
/* Bytes before the first boundary (the preamble) that are skipped; more is not a form. */
#if !defined MULTIPART_PREAMBLE_MAX
#define MULTIPART_PREAMBLE_MAX 1024
#endif

#endif
