/*
 * Which code answers a request: one const table of {method, path, handler}, the whole URL
 * space of the HTTP server at a glance (http_routes.c). What it promises:
 *  - a path matches exactly (the query is already cut off), case-sensitive;
 *  - a route for GET answers HEAD too: the same head, no body (RFC 7231 4.3.2);
 *  - a path that has routes, none for the request's method, gets 405 with an Allow header
 *    listing the methods of its routes in table order (RFC 7231 6.5.5); any other path 404;
 *  - the files of the ROM file system without a marker (the stylesheet) are served as they
 *    are; pages with a marker are templates, reached only through their own routes.
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

/* Longest Allow value a path of the table can have. */
#define HTTP_ALLOW_MAX 32

/* The route for method and path, or NULL. */
const struct http_route *http_route_find(enum http_method method, const char *path);

/* Writes the methods path has routes for ("GET, HEAD", "PUT, POST") into out, for a 405's
 * Allow header. False, with out "", when the path has no route at all (404). */
bool http_route_allow(const char *path, char *out, size_t out_size);

/* Runs the request's handler, or answers 405 or 404. */
void http_route_request(struct http_conn *c, uint32_t now_ms);

/* The two routes that are only a page. */
void http_serve_file(struct http_conn *c, uint32_t now_ms);    /* GET of a plain file */
void http_reset_board(struct http_conn *c, uint32_t now_ms);   /* POST /resetmcu.cgi */

#endif
