/* The USE_IAP_HTTP part of the firmware (see iap_http.h): the HTTP server of src/ with
 * AN3376's login (HTTP_DEFAULT_USER/HTTP_DEFAULT_PASSWORD, src/http_opts.h), uploads into the
 * flash writer, and the reset page's reset done by the chip. */
#include "iap_http.h"

#include "board_stm32.h"
#include "http_opts.h"
#include "http_server.h"
#include "iap_opts.h"
#include "log.h"

static void request_reset(void *ctx)
{
  (void)ctx;
  log_info("board", "reset (asked for by the HTTP reset page)");
  board_system_reset();
}

void iap_http_start(struct iap_writer *writer)
{
  const struct http_server_config cfg = {
    .sink = &iap_writer_sink_ops,
    .sink_ctx = writer,
    .user = HTTP_DEFAULT_USER,
    .password = HTTP_DEFAULT_PASSWORD,
    .session_timeout_ms = 0,
    .user_flash_base = USER_FLASH_FIRST_PAGE_ADDRESS,
    .user_flash_size = USER_FLASH_END_ADDRESS - USER_FLASH_FIRST_PAGE_ADDRESS,
    .request_reset = request_reset,
    .reset_ctx = NULL,
  };
  if (http_server_start(&cfg) == ERR_OK)
    log_info("http", "server ready on port %u", (unsigned)HTTP_PORT);
  else
    log_err("http", "cannot listen on TCP port %u (lwIP out of memory)", (unsigned)HTTP_PORT);
}
