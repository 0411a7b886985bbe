/*
 * Which code answers a request: one const table of {method, path, handler}, the whole URL
 * space of the HTTP server at a glance (http_routes.c). What it promises:
 *  - a path matches exactly (the query is already cut off), case-sensitive;
 *  - a route for GET answers HEAD too: the same head, no body (RFC 7231 4.3.2);
 *  - a path that has routes, none for the request's method, gets 405 with an Allow header
 *    listing the methods of its routes in table order (RFC 7231 6.5.5); any other path 404;
 *  - a POST or PUT whose Origin, or Referer when it has no Origin, is not "http://" and its
 *    Host gets 403 before its handler runs (CSRF); one with neither header is taken, as
 *    scripts send it (browsers send Origin with every cross-site POST);
 *  - the files of the ROM file system without a marker (the stylesheet) are served as they
 *    are; pages with a marker are templates, reached only through their own routes.
 *
 * The routes (AN3376 section 4, with real sessions):
 *   GET  /                 login page (also /index.html, /login.html)
 *   POST /checklogin.cgi   urlencoded username, password: the upload page and a session
 *                          cookie (HttpOnly, SameSite=Strict), or the login page again (403)
 *   GET  /upload.html      the upload page, with a session
 *   POST /upload.cgi       multipart/form-data, file field "datafile", with a session: the
 *                          done page with size and CRC-32 and a RESET MCU button
 *   POST /resetmcu.cgi     with a session: resets the board (without Key) once the page is
 *                          sent, through the request_reset callback
 *   POST /logout.cgi       ends the session
 *   PUT  /firmware         (or POST with Content-Type application/octet-stream) the raw
 *                          image, HTTP Basic auth, a JSON answer: for scripts and curl -T
 */
#ifndef IAPD_HTTP_ROUTES_H
#define IAPD_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_request.h"

struct http_conn;

/* A route's handler: answers the request at once, or takes the body (sets c->handler). */
typedef void http_handler_fn(struct http_conn *c, uint32_t now_ms);

struct http_route {
  enum http_method method;            /* GET stands for HEAD too */
  const char *path;                   /* NULL: any file of http_fs without a marker */
  http_handler_fn *handler;
};

extern const struct http_route http_routes[];
extern const size_t http_routes_count;

/* Room for the longest Allow list of a path of the table, with its NUL (the unit test checks
 * every path's list whole). */
#define HTTP_ALLOW_MAX 32

/* The route for method and path, or NULL. */
const struct http_route *http_route_find(enum http_method method, const char *path);

/* Writes the methods path has routes for ("GET, HEAD", "PUT, POST") into out, for a 405's
 * Allow header. False, with out "", when the path has no route at all (404). */
bool http_route_allow(const char *path, char out[HTTP_ALLOW_MAX]);

/* Runs the request's handler, or answers 405 or 404. */
void http_route_request(struct http_conn *c, uint32_t now_ms);

/* The two routes that are only a page. */
void http_serve_file(struct http_conn *c, uint32_t now_ms);    /* GET of a plain file */
void http_reset_board(struct http_conn *c, uint32_t now_ms);   /* POST /resetmcu.cgi */

#endif
