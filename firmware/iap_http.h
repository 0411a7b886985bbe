/*
 * USE_IAP_HTTP on the board: starts the HTTP IAP server (AN3376 section 4: login, RFC 1867
 * upload, reset page) from src/, streaming uploads into the flash writer, as iapd does.
 */
#ifndef IAPD_IAP_HTTP_H
#define IAPD_IAP_HTTP_H

#include "iap_writer.h"

void iap_http_start(struct iap_writer *writer);

#endif
