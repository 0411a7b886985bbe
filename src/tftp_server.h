/*
 * The TFTP IAP server on lwIP's raw UDP API: port 69 and one transfer port, packets handed to
 * tftp_core, uploads streamed into the flash writer. Call from lwIP's context (NO_SYS main
 * loop) only.
 */
#ifndef IAPD_TFTP_SERVER_H
#define IAPD_TFTP_SERVER_H

#include "image_sink.h"
#include "lwip/err.h"
#include "tftp_core.h"

/* Listens on UDP port 69; uploads go to sink. limits: the largest blksize and windowsize
 * answered (NULL: TFTP_BLKSIZE_MAX and TFTP_WINDOWSIZE_MAX of tftp_opts.h). */
err_t tftp_server_start(const struct image_sink_ops *sink, void *sink_ctx,
                        const struct tftp_limits *limits);

/* Stops listening and aborts any transfer. */
void tftp_server_stop(void);

/* The core, for status and tests; NULL when stopped. */
const struct tftp_core *tftp_server_core(void);

#endif
