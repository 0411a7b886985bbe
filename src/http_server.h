/*
 * The HTTP IAP server on lwIP's raw TCP API: port 80, up to HTTP_MAX_CONNECTIONS connections
 * from a static pool, each a struct http_conn (http_core.h) fed from its pbufs. Received data
 * is acknowledged to TCP (tcp_recved) only once the core took it, so the TCP window holds a
 * client back while an answer is still going out. Call from lwIP's context only.
 */
#ifndef IAPD_HTTP_SERVER_H
#define IAPD_HTTP_SERVER_H

#include "http_core.h"
#include "lwip/err.h"

/* Listens on HTTP_PORT; cfg is copied, its strings must stay valid while the server runs. */
err_t http_server_start(const struct http_server_config *cfg);

/* Stops listening and drops every connection (RST); an upload in progress is aborted. */
void http_server_stop(void);

/* The shared state (sessions, counters), for status and tests; NULL when stopped. */
const struct http_app *http_server_app(void);

#endif
