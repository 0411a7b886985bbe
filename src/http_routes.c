/* The HTTP server's routes (see http_routes.h). */
#include "http_routes.h"

#include <string.h>

#include "http_core.h"
#include "http_fs.h"
#include "http_login.h"
#include "http_response.h"
#include "http_upload.h"
#include "iap_format.h"
#include "log.h"

/* AN3376 section 4's pages and CGIs, plus logout and the script endpoint. A GET row answers
 * HEAD too; the last row stands for every file of http_fs without a marker (the stylesheet). */
const struct http_route http_routes[] = {
  { HTTP_METHOD_GET,  "/",               http_login_page },
  { HTTP_METHOD_GET,  "/index.html",     http_login_page },
  { HTTP_METHOD_GET,  "/login.html",     http_login_page },
  { HTTP_METHOD_POST, "/checklogin.cgi", http_login_check },
  { HTTP_METHOD_GET,  "/upload.html",    http_login_upload_page },
  { HTTP_METHOD_POST, "/upload.cgi",     http_upload_form },
  { HTTP_METHOD_PUT,  "/firmware",       http_upload_raw },
  { HTTP_METHOD_POST, "/firmware",       http_upload_raw },
  { HTTP_METHOD_POST, "/resetmcu.cgi",   http_reset_board },
  { HTTP_METHOD_POST, "/logout.cgi",     http_login_logout },
  { HTTP_METHOD_GET,  NULL,              http_serve_file },
};

const size_t http_routes_count = sizeof(http_routes) / sizeof(http_routes[0]);

static bool path_matches(const struct http_route *route, const char *path)
{
  if (route->path != NULL)
    return strcmp(route->path, path) == 0;
  const struct http_fs_file *f = http_fs_find(path);
  return f != NULL && f->marker < 0;
}

static bool method_matches(enum http_method route, enum http_method request)
{
  return route == request || (route == HTTP_METHOD_GET && request == HTTP_METHOD_HEAD);
}

/* The Allow text of a route's method. */
static const char *allow_text(enum http_method m)
{
  switch (m) {
  case HTTP_METHOD_GET: return "GET, HEAD";
  case HTTP_METHOD_HEAD: return "HEAD";
  case HTTP_METHOD_POST: return "POST";
  case HTTP_METHOD_PUT: return "PUT";
  default: return "";
  }
}

/* One pass over the table: the route for method and path (NULL when none), and the methods
 * of all the path's routes into allow (NULL: not wanted). */
static const struct http_route *lookup(enum http_method method, const char *path,
                                       char allow[HTTP_ALLOW_MAX])
{
  const struct http_route *found = NULL;
  size_t n = 0;

  if (allow != NULL)
    allow[0] = '\0';
  for (const struct http_route *r = http_routes; r < http_routes + http_routes_count; r++) {
    if (!path_matches(r, path))
      continue;
    if (found == NULL && method_matches(r->method, method))
      found = r;
    if (allow != NULL && n < HTTP_ALLOW_MAX)
      n += (size_t)iap_snprintf(allow + n, HTTP_ALLOW_MAX - n, "%s%s", n > 0 ? ", " : "",
                            allow_text(r->method));
  }
  return found;
}

const struct http_route *http_route_find(enum http_method method, const char *path)
{
  return lookup(method, path, NULL);
}

bool http_route_allow(const char *path, char out[HTTP_ALLOW_MAX])
{
  lookup(HTTP_METHOD_OTHER, path, out);
  return out[0] != '\0';
}

/* A POST or PUT whose Origin (or Referer) names another site: a page of that site made the
 * browser send it, with the board's cookie (OWASP CSRF cheat sheet, "verifying origin with
 * standard headers"). SameSite=Strict alone leaves older browsers and sibling sites open.
 * Answered 403 in the endpoint's format, before any handler reads a byte of the body. */
static bool refuse_cross_site(struct http_conn *c, const struct http_route *route)
{
  const struct http_request *r = &c->parser.req;
  char msg[HTTP_PAGE_TEXT_MAX - 40];

  if (route->method == HTTP_METHOD_GET || http_request_same_origin(r))
    return false;
  iap_snprintf(msg, sizeof(msg), "cross-site request refused: its %s %s is not this board (%s)",
               r->origin_from == HTTP_ORIGIN_HEADER ? "Origin" : "Referer",
               r->origin_cut ? "(too long)" : r->origin, r->has_host ? r->host : "no Host");
  log_warn("http", "%s %s from %s: %s", r->method_text, r->path, c->peer, msg);
  c->close_after = true;
  if (route->handler == http_upload_raw)
    http_send_json_error(c, 403, msg, NULL);
  else
    http_send_error_page(c, 403, msg, NULL);
  http_conn_answer_early(c);
  http_conn_end_early(c);
  return true;
}

void http_route_request(struct http_conn *c, uint32_t now_ms)
{
  const struct http_request *r = &c->parser.req;
  char allow[HTTP_ALLOW_MAX];
  char extra[sizeof("Allow: \r\n") + HTTP_ALLOW_MAX];
  const struct http_route *route = lookup(r->method, r->path, allow);

  if (route != NULL) {
    if (!refuse_cross_site(c, route))
      route->handler(c, now_ms);
    return;
  }
  if (allow[0] == '\0') {
    http_send_error_page(c, 404, "no such page", NULL);
    return;
  }
  iap_snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
  http_send_error_page(c, 405, "method not allowed here", extra);
}

void http_serve_file(struct http_conn *c, uint32_t now_ms)
{
  (void)now_ms;
  http_send_page(c, 200, c->parser.req.path, NULL, NULL);
}

void http_reset_board(struct http_conn *c, uint32_t now_ms)
{
  if (!http_login_has_session(c, now_ms)) {
    log_warn("http", "reset from %s refused: no session", c->peer);
    http_login_refuse(c, false);
    return;
  }
  log_info("http", "reset requested by %s", c->peer);
  /* The reset waits until the page is out (http_conn_ops close): the browser shows it. */
  c->close_after = true;
  c->reset_after = c->app->cfg.request_reset != NULL;
  http_send_page(c, 200, "/reset.html", "Resetting the board.", NULL);
}
