/* The control server on libmicrohttpd, in the daemon's poll loop (see control.h). */
#include "control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock_posix.h"
#include "control_events.h"
#include "control_json.h"
#include "control_slots.h"
#include "http_fs.h"

/* Bounds on what clients can make the server hold. The connection limits are
 * control_slots.h's: libmicrohttpd's hard ones, and the server keeps below them. */
#define CONNECTION_MEMORY     (32u * 1024u)   /* headers and buffers per connection */
#define CONNECTION_TIMEOUT_S  10u             /* nothing sent or taken for this long: closed */
#define STREAM_TIMEOUT_S      30u             /* an event stream, kept alive every 15 s */
#define LISTEN_BACKLOG        128u            /* a burst waits here a turn, not dropped */
#define ACCEPTS_PER_TURN      64u             /* then the board's loop has its turn */
#define ACCEPTS_PER_BATCH     8u              /* read between batches (control_run) */
#define BODY_MAX              256u            /* POST /api/reset, /api/power-cut body */
#define EVENT_CLIENTS_MAX     8u
#define EVENT_QUEUE_BYTES     (64u * 1024u)   /* per client; a client this far behind is dropped */
#define EVENT_MAX             1024u           /* one formatted event */
#define EVENT_BLOCK           4096u
#define BACKLOG_LINES         16u             /* log lines a new client gets first: the LCD */
#define PROGRESS_INTERVAL_MS  100u
#define KEEPALIVE_MS          15000u          /* below CONNECTION_TIMEOUT_S, for proxies too */
#define STATUS_JSON_MAX       (64u * 1024u)   /* GET /api/status; under 2 KiB today */
#define REPLY_JSON_MAX        1024u           /* errors, the reset reply */

struct sse_client {
  struct control *ctl;
  struct MHD_Connection *conn;
  struct event_queue queue;
  bool suspended;
  struct sse_client *next;
};

/* Per-request state, for requests with a body. */
struct request {
  size_t len;
  bool too_large;
  char body[BODY_MAX];
};

struct control {
  struct MHD_Daemon *mhd;
  int listen_fd;              /* the server's own: libmicrohttpd gets accepted connections */
  int epoll_fd;               /* the listening socket and libmicrohttpd's epoll: control_fd */
  struct control_slots slots;
  struct control_board board;
  char last_error[256];       /* libmicrohttpd's last message, for control_start errors */
  uint32_t start_ms;
  uint32_t now_ms;

  struct sse_client *clients;
  unsigned client_count;
  uint32_t last_keepalive_ms;

  char backlog[BACKLOG_LINES][EVENT_MAX];
  size_t backlog_len[BACKLOG_LINES];
  unsigned backlog_next, backlog_count;

  /* The transfer as last seen, for progress events and the rate. */
  bool transfer_seen;
  uint32_t transfer_start_ms;
  uint32_t transfer_bytes;
  char transfer_peer[48];
  uint32_t last_progress_ms;
};

/* --- libmicrohttpd's messages ------------------------------------------------------------ */

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  struct control *c = cls;
  char text[256];
  vsnprintf(text, sizeof(text), fmt, ap);
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
    text[--n] = '\0';
  snprintf(c->last_error, sizeof(c->last_error), "%s", text);
  log_debug("control", "libmicrohttpd: %s", text);
}

/* --- connection slots -------------------------------------------------------------------- */

static struct control_slot *slot_of(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *info =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info != NULL ? info->socket_context : NULL;
}

/* A connection opens or closes. One past a limit closes another, or itself
 * (control_slots.h): shut down, libmicrohttpd sees the end at its next turn and closes it as
 * if the client had. Its own limits, twice these, are not reached, so it keeps accepting: no
 * new connection waits in the listen queue behind a flood. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  struct control *c = cls;
  if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
    control_slots_remove(*socket_context);
    *socket_context = NULL;
    return;
  }
  const union MHD_ConnectionInfo *client =
    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (client == NULL || client->client_addr == NULL)
    return;
  struct control_slot *evict;
  *socket_context = control_slots_add(&c->slots, conn, client->client_addr, clock_now_ms(),
                                       &evict);
  if (evict == NULL)
    return;
  const union MHD_ConnectionInfo *fd =
    MHD_get_connection_info(evict->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  log_debug("control", "all connections taken: closing %s", evict->conn == conn ? "the new one"
            : evict->busy ? "the oldest busy one" : "the oldest idle one");
  if (fd != NULL)
    shutdown(fd->connect_fd, SHUT_RDWR);
}

/* --- responses --------------------------------------------------------------------------- */

static void add_common_headers(struct MHD_Response *r, const char *type)
{
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

static enum MHD_Result queue_buffer(struct MHD_Connection *conn, unsigned status,
                                    const char *type, void *data, size_t len,
                                    enum MHD_ResponseMemoryMode mode, const char *allow)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, data, mode);
  if (r == NULL) {
    if (mode == MHD_RESPMEM_MUST_FREE)
      free(data);
    return MHD_NO;
  }
  add_common_headers(r, type);
  if (allow != NULL)
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

/* v as the reply (the reference is taken); a value that is NULL (out of memory) or whose
 * text is longer than max_len is a 500: a reply is never cut short. */
static enum MHD_Result queue_json(struct MHD_Connection *conn, unsigned status, json_t *v,
                                  size_t max_len, const char *allow)
{
  size_t len = 0;
  char *text = v != NULL ? control_json_dump(v, max_len, &len) : NULL;
  json_decref(v);
  if (text == NULL) {
    static char oops[] = "{\"error\":\"internal error: the reply did not fit\"}";
    return queue_buffer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", oops,
                        sizeof(oops) - 1, MHD_RESPMEM_PERSISTENT, NULL);
  }
  return queue_buffer(conn, status, "application/json", text, len, MHD_RESPMEM_MUST_FREE,
                      allow);
}

/* Every refusal: a 4xx with {"error": "what is wrong"}. */
static enum MHD_Result queue_error(struct MHD_Connection *conn, unsigned status,
                                   const char *allow, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static enum MHD_Result queue_error(struct MHD_Connection *conn, unsigned status,
                                   const char *allow, const char *fmt, ...)
{
  char message[400];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  /* The message may quote what the client sent (a Host header): any bytes at all. */
  return queue_json(conn, status, control_error_json(message), REPLY_JSON_MAX, allow);
}

/* --- the status snapshot ----------------------------------------------------------------- */

static void fill_transfer(const struct control *c, struct control_transfer *t)
{
  const struct iap_writer *w = c->board.writer;
  memset(t, 0, sizeof(*t));
  if (w == NULL || !w->active)
    return;
  t->active = true;
  t->protocol = w->protocol;
  t->peer = w->peer;
  t->bytes = w->received;
  t->expected = w->expected;
  t->elapsed_ms = c->transfer_seen ? c->now_ms - c->transfer_start_ms : 0;
}

static void fill_status(const struct control *c, struct board_status *s)
{
  memset(s, 0, sizeof(*s));
  c->board.status(c->board.ctx, s);
  s->uptime_ms = c->now_ms - c->start_ms;
  fill_transfer(c, &s->transfer);
  if (c->board.flash != NULL) {
    s->protected_sectors = c->board.flash->protected_sectors;
    for (unsigned n = 0; n < STM32_FLASH_SECTOR_COUNT; n++) {
      s->erased[n] = flash_model_sector_erased(c->board.flash, n);
      s->erase_count[n] = c->board.flash->erase_count[n];
    }
  }
}

/* --- server-sent events ------------------------------------------------------------------ */

static void client_push(struct sse_client *cl, const char *data, size_t len)
{
  if (!event_queue_push(&cl->queue, data, len))
    log_debug("control", "event client too slow (%u bytes queued): dropping it",
              (unsigned)cl->queue.len);
  /* Wake the connection either way: with data it sends, overflowed it closes. */
  if (cl->suspended) {
    cl->suspended = false;
    MHD_resume_connection(cl->conn);
  }
}

static void broadcast(struct control *c, const char *data, size_t len)
{
  for (struct sse_client *cl = c->clients; cl != NULL; cl = cl->next)
    client_push(cl, data, len);
}

static void broadcast_event(struct control *c, const char *event, const json_t *data)
{
  char buf[EVENT_MAX];
  size_t n = control_sse_event(buf, sizeof(buf), event, data);
  if (n > 0)
    broadcast(c, buf, n);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct sse_client *cl = cls;
  (void)pos;
  if (cl->queue.overflowed)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = event_queue_pop(&cl->queue, buf, max);
  if (n > 0)
    return (ssize_t)n;
  /* Nothing to send: park the connection until client_push() wakes it, rather than have
   * libmicrohttpd call again at once. */
  cl->suspended = true;
  MHD_suspend_connection(cl->conn);
  return 0;
}

static void sse_free(void *cls)
{
  struct sse_client *cl = cls;
  struct control *c = cl->ctl;
  for (struct sse_client **p = &c->clients; *p != NULL; p = &(*p)->next) {
    if (*p == cl) {
      *p = cl->next;
      break;
    }
  }
  c->client_count--;
  event_queue_free(&cl->queue);
  free(cl);
}

static enum MHD_Result serve_events(struct control *c, struct MHD_Connection *conn)
{
  if (c->client_count >= EVENT_CLIENTS_MAX)
    return queue_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                       "too many event streams open (%u); close one and retry",
                       EVENT_CLIENTS_MAX);
  struct sse_client *cl = calloc(1, sizeof(*cl));
  if (cl == NULL || !event_queue_init(&cl->queue, EVENT_QUEUE_BYTES)) {
    free(cl);
    return MHD_NO;
  }
  cl->ctl = c;
  cl->conn = conn;
  struct control_slot *slot = slot_of(conn);
  if (slot != NULL)
    slot->stream = true;  /* never closed for a new connection; at most EVENT_CLIENTS_MAX */
  MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)STREAM_TIMEOUT_S);

  /* The stream starts with the reconnect delay, the LCD's last lines and the transfer. */
  static const char hello[] = "retry: 2000\n\n";
  event_queue_push(&cl->queue, hello, sizeof(hello) - 1);
  for (unsigned i = 0; i < c->backlog_count; i++) {
    unsigned k = (c->backlog_next + BACKLOG_LINES - c->backlog_count + i) % BACKLOG_LINES;
    event_queue_push(&cl->queue, c->backlog[k], c->backlog_len[k]);
  }
  struct control_transfer t;
  char buf[EVENT_MAX];
  fill_transfer(c, &t);
  json_t *progress = control_transfer_json(&t);
  size_t n = control_sse_event(buf, sizeof(buf), "progress", progress);
  json_decref(progress);
  if (n > 0)
    event_queue_push(&cl->queue, buf, n);

  struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EVENT_BLOCK,
                                                             sse_read, cl, sse_free);
  if (r == NULL) {
    event_queue_free(&cl->queue);
    free(cl);
    return MHD_NO;
  }
  cl->next = c->clients;
  c->clients = cl;
  c->client_count++;
  add_common_headers(r, "text/event-stream");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

void control_log(struct control *c, enum iap_log_level level, const char *module,
                 const char *text)
{
  char buf[EVENT_MAX];

  if (c == NULL)
    return;
  /* clock_now_ms(), not now_ms: lines come from outside control_run too. */
  json_t *line = control_log_json(level, module, text, clock_now_ms() - c->start_ms);
  size_t n = control_sse_event(buf, sizeof(buf), "log", line);
  json_decref(line);
  if (n == 0)
    return;
  if (level != IAP_LOG_DEBUG) {
    memcpy(c->backlog[c->backlog_next], buf, n);
    c->backlog_len[c->backlog_next] = n;
    c->backlog_next = (c->backlog_next + 1) % BACKLOG_LINES;
    if (c->backlog_count < BACKLOG_LINES)
      c->backlog_count++;
  }
  broadcast(c, buf, n);
}

/* Progress events: at most every PROGRESS_INTERVAL_MS while bytes arrive, and one null when
 * the transfer ends. */
static void track_transfer(struct control *c)
{
  const struct iap_writer *w = c->board.writer;
  bool active = w != NULL && w->active;
  bool changed = false;

  if (active) {
    if (!c->transfer_seen || w->received < c->transfer_bytes ||
        strcmp(w->peer, c->transfer_peer) != 0) {
      c->transfer_seen = true;
      c->transfer_start_ms = c->now_ms;
      snprintf(c->transfer_peer, sizeof(c->transfer_peer), "%s", w->peer);
      changed = true;
    } else if (w->received != c->transfer_bytes &&
               c->now_ms - c->last_progress_ms >= PROGRESS_INTERVAL_MS) {
      changed = true;
    }
  } else if (c->transfer_seen) {
    c->transfer_seen = false;
    changed = true;
  }
  if (!changed)
    return;
  c->transfer_bytes = active ? w->received : 0;
  c->last_progress_ms = c->now_ms;
  if (c->clients == NULL)
    return;
  struct control_transfer t;
  fill_transfer(c, &t);
  json_t *progress = control_transfer_json(&t);
  broadcast_event(c, "progress", progress);
  json_decref(progress);
}

/* --- requests ---------------------------------------------------------------------------- */

static bool is_get(const char *method)
{
  return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result serve_status(struct control *c, struct MHD_Connection *conn)
{
  struct board_status s;
  fill_status(c, &s);
  return queue_json(conn, MHD_HTTP_OK, control_status_json(&s), STATUS_JSON_MAX, NULL);
}

static enum MHD_Result serve_flash(struct control *c, struct MHD_Connection *conn)
{
  if (c->board.flash == NULL || c->board.flash->mem == NULL)
    return queue_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "no flash attached");
  /* A copy: the dump is the flash at one instant even while an upload writes it. */
  struct MHD_Response *r = MHD_create_response_from_buffer(STM32_FLASH_SIZE,
                                                           c->board.flash->mem,
                                                           MHD_RESPMEM_MUST_COPY);
  if (r == NULL)
    return MHD_NO;
  add_common_headers(r, "application/octet-stream");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                          "attachment; filename=\"iapd-flash.bin\"");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result serve_reset(struct control *c, struct MHD_Connection *conn,
                                   const struct request *req)
{
  char why[200];
  bool key;
  struct board_status s;

  if (req->too_large)
    return queue_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                       "body larger than %u bytes: expected {\"key\": true} or "
                       "{\"key\": false}", BODY_MAX);
  if (!control_parse_reset(req->body, req->len, &key, why, sizeof(why)))
    return queue_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", why);
  if (c->board.flash_busy != NULL && c->board.flash_busy(c->board.ctx))
    return queue_error(conn, MHD_HTTP_CONFLICT, NULL,
                       "flash busy: a flash operation stalls the board; wait for it to end "
                       "(flash.busy in /api/status) or cut the power (POST /api/power-cut)");
  log_info("control", "reset%s (POST /api/reset)", key ? " with Key held" : "");
  c->board.reset(c->board.ctx, key);
  fill_status(c, &s);
  json_t *reply = json_pack("{s:b,s:b,s:s}", "reset", 1, "key", (int)key,
                            "mode", s.application ? "application" : "iap");
  return queue_json(conn, MHD_HTTP_OK, reply, REPLY_JSON_MAX, NULL);
}

static enum MHD_Result serve_power_cut(struct control *c, struct MHD_Connection *conn,
                                       const struct request *req)
{
  char why[200];
  int mode;
  struct power_cut_report r;

  if (req->too_large)
    return queue_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
                       "body larger than %u bytes: expected {} or {\"mode\": \"torn\"} or "
                       "{\"mode\": \"clean\"}", BODY_MAX);
  if (!control_parse_power_cut(req->body, req->len, &mode, why, sizeof(why)))
    return queue_error(conn, MHD_HTTP_BAD_REQUEST, NULL, "%s", why);
  if (c->board.power_cut == NULL)
    return queue_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "this board has no power "
                       "switch");
  memset(&r, 0, sizeof(r));
  c->board.power_cut(c->board.ctx, mode, &r);
  return queue_json(conn, MHD_HTTP_OK, control_power_cut_json(&r), REPLY_JSON_MAX, NULL);
}

static bool is_post_route(const char *url)
{
  return strcmp(url, "/api/reset") == 0 || strcmp(url, "/api/power-cut") == 0;
}

/* The board page's files, generated from emul/www/ by tools/mkfsdata.py (mk/control.am) in
 * the ROM file system format of the board's own HTTP server. */
extern const struct http_fs_file control_www_files[];
extern const size_t control_www_files_count;

static const struct http_fs_file *find_asset(const char *url)
{
  if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
    url = "/board.html";
  for (size_t i = 0; i < control_www_files_count; i++)
    if (strcmp(control_www_files[i].path, url) == 0)
      return &control_www_files[i];
  return NULL;
}

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const struct http_fs_file *a)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data,
                                                           MHD_RESPMEM_PERSISTENT);
  if (r == NULL)
    return MHD_NO;
  add_common_headers(r, a->content_type);
  MHD_add_response_header(r, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

/* A POST must say it sends JSON (which a cross-site form cannot without a CORS preflight
 * this server never answers) and, from a browser, come from a page of this server. */
static const char *post_refusal(struct MHD_Connection *conn, unsigned *status)
{
  const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
  const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
  const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

  if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
      (type[16] != '\0' && type[16] != ';' && type[16] != ' ')) {
    *status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    return "Content-Type must be application/json";
  }
  if (origin != NULL) {
    if (host == NULL || strncmp(origin, "http://", 7) != 0 || strcmp(origin + 7, host) != 0) {
      *status = MHD_HTTP_FORBIDDEN;
      return "cross-origin request refused: Origin is not this server";
    }
  }
  return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
  struct control *c = cls;
  struct request *req = *con_cls;
  bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
  (void)version;

  control_slots_busy(slot_of(conn), true, clock_now_ms());
  if (req == NULL && post && is_post_route(url)) {
    /* First call for a POST: headers only. Refuse early, or get ready for the body. */
    unsigned status;
    const char *why = post_refusal(conn, &status);
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_HOST);
    if (!control_host_allowed(host))
      return queue_error(conn, MHD_HTTP_FORBIDDEN, NULL,
                         "Host '%s' is not an address of this server (name it by IP "
                         "address or localhost)", host);
    if (why != NULL)
      return queue_error(conn, status, NULL, "%s", why);
    req = calloc(1, sizeof(*req));
    if (req == NULL)
      return MHD_NO;
    *con_cls = req;
    return MHD_YES;
  }
  if (req != NULL && *upload_size > 0) {
    size_t room = sizeof(req->body) - req->len;
    if (*upload_size > room)
      req->too_large = true;
    else
      memcpy(req->body + req->len, upload_data, *upload_size);
    if (!req->too_large)
      req->len += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }

  const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  if (!control_host_allowed(host))
    return queue_error(conn, MHD_HTTP_FORBIDDEN, NULL,
                       "Host '%s' is not an address of this server (name it by IP address "
                       "or localhost)", host);

  if (strcmp(url, "/api/reset") == 0) {
    if (!post)
      return queue_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "POST",
                         "%s /api/reset: use POST with {\"key\": true} or {\"key\": false}",
                         method);
    return serve_reset(c, conn, req);
  }
  if (strcmp(url, "/api/power-cut") == 0) {
    if (!post)
      return queue_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "POST",
                         "%s /api/power-cut: use POST with {} or {\"mode\": \"torn\"} or "
                         "{\"mode\": \"clean\"}", method);
    return serve_power_cut(c, conn, req);
  }

  const struct http_fs_file *asset = find_asset(url);
  bool known = asset != NULL || strcmp(url, "/api/status") == 0 ||
               strcmp(url, "/api/flash") == 0 || strcmp(url, "/api/events") == 0;
  if (!known)
    return queue_error(conn, MHD_HTTP_NOT_FOUND, NULL,
                       "no such resource: %s (the API is /api/status, /api/reset, "
                       "/api/power-cut, /api/flash, /api/events; the board page is /)", url);
  if (!is_get(method))
    return queue_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, HEAD",
                       "%s %s: only GET and HEAD are allowed here", method, url);
  if (asset != NULL)
    return serve_asset(conn, asset);
  if (strcmp(url, "/api/status") == 0)
    return serve_status(c, conn);
  if (strcmp(url, "/api/flash") == 0)
    return serve_flash(c, conn);
  return serve_events(c, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
  (void)cls;
  (void)why;
  control_slots_busy(slot_of(conn), false, clock_now_ms());
  free(*con_cls);
  *con_cls = NULL;
}

/* --- life cycle and the poll loop -------------------------------------------------------- */

/* The listening socket, the server's own: libmicrohttpd's, in its epoll set, is not looked
 * at again after a burst of connections until another one comes, so a flood left the rest
 * waiting in the listen queue for good (and GET /api/status behind them). This one is polled
 * level-triggered: the loop comes back while a connection waits. */
static int listen_on(const struct control_listen *where, char *why, size_t why_size)
{
  int fd = socket(where->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
      || bind(fd, (const struct sockaddr *)&where->addr, where->addr_len) != 0
      || listen(fd, LISTEN_BACKLOG) != 0) {
    snprintf(why, why_size, "%s", strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

struct control *control_start(const struct control_listen *where,
                              const struct control_board *board, uint32_t now_ms, char *err,
                              size_t err_size)
{
  char why[256];
  struct control *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    snprintf(err, err_size, "control server: out of memory");
    return NULL;
  }
  c->board = *board;
  c->start_ms = c->now_ms = c->last_keepalive_ms = now_ms;
  c->epoll_fd = -1;
  c->listen_fd = listen_on(where, why, sizeof(why));
  if (c->listen_fd < 0) {
    snprintf(err, err_size, "control server: cannot listen on %s: %s (use --control "
             "ADDR:PORT for another address, or --control none)", where->text, why);
    free(c);
    return NULL;
  }

  unsigned flags = MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME
                   | MHD_USE_ERROR_LOG;
  if (where->addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  c->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, c,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, c,
                            MHD_OPTION_CONNECTION_LIMIT, CONTROL_SLOTS_HARD,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, CONTROL_SLOTS_HARD_PER_ADDRESS,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                            MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, c,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, c,
                            MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
    c->mhd ? MHD_get_daemon_info(c->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
  c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event listen_ev = { .events = EPOLLIN, .data.fd = c->listen_fd };
  struct epoll_event mhd_ev = { .events = EPOLLIN, .data.fd = info ? info->epoll_fd : -1 };
  if (c->mhd == NULL || info == NULL || c->epoll_fd < 0
      || epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->listen_fd, &listen_ev) != 0
      || epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, info->epoll_fd, &mhd_ev) != 0) {
    snprintf(err, err_size, "control server: cannot start on %s: %s", where->text,
             c->mhd == NULL ? (c->last_error[0] ? c->last_error
                                                : "libmicrohttpd refused to start")
                            : strerror(errno));
    if (c->mhd != NULL)
      MHD_stop_daemon(c->mhd);
    if (c->epoll_fd >= 0)
      close(c->epoll_fd);
    close(c->listen_fd);
    free(c);
    return NULL;
  }
  return c;
}

int control_fd(const struct control *c)
{
  return c->epoll_fd;
}

int control_timeout_ms(struct control *c)
{
  MHD_UNSIGNED_LONG_LONG t;
  if (MHD_get_timeout(c->mhd, &t) != MHD_YES)
    return -1;
  return t > 1000000u ? 1000000 : (int)t;
}

/* Hands at most ACCEPTS_PER_BATCH connections waiting in the listen queue to libmicrohttpd
 * (which closes one it cannot take); returns how many. */
static unsigned accept_waiting(struct control *c)
{
  unsigned n = 0;
  while (n < ACCEPTS_PER_BATCH) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    int fd = accept(c->listen_fd, (struct sockaddr *)&addr, &len);
    if (fd < 0)
      break;  /* EAGAIN: none left; anything else: the client is gone already */
    n++;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
      close(fd);
      continue;
    }
    MHD_add_connection(c->mhd, fd, (const struct sockaddr *)&addr, len);
  }
  return n;
}

void control_run(struct control *c, uint32_t now_ms)
{
  c->now_ms = now_ms;
  /* In batches, each read before the next is taken: a new connection with its request already
   * sent (GET /api/status) is busy before enough newer ones arrive to make it the oldest idle
   * one, the one a flood's next connection would close (control_slots.h). */
  for (unsigned taken = 0; taken < ACCEPTS_PER_TURN;) {
    unsigned n = accept_waiting(c);
    MHD_run(c->mhd);
    taken += n;
    if (n < ACCEPTS_PER_BATCH)
      break;
  }
  track_transfer(c);
  if (now_ms - c->last_keepalive_ms >= KEEPALIVE_MS) {
    static const char keepalive[] = ": keepalive\n\n";
    c->last_keepalive_ms = now_ms;
    broadcast(c, keepalive, sizeof(keepalive) - 1);
  }
}

void control_stop(struct control *c)
{
  if (c == NULL)
    return;
  /* libmicrohttpd must not be stopped with suspended connections: wake every stream and
   * make it end. */
  for (struct sse_client *cl = c->clients; cl != NULL; cl = cl->next) {
    cl->queue.overflowed = true;
    if (cl->suspended) {
      cl->suspended = false;
      MHD_resume_connection(cl->conn);
    }
  }
  MHD_run(c->mhd);
  MHD_stop_daemon(c->mhd);
  close(c->epoll_fd);
  close(c->listen_fd);
  free(c);
}
