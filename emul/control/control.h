/*
 * The emulated board's control server (libmicrohttpd), separate from the board's own lwIP
 * servers: a JSON API under /api/ and the board page. No threads: it runs from the daemon's
 * poll loop (control_fd() in the poll set, control_run() every turn, control_timeout_ms() as
 * a bound on the sleep), so a request never blocks the board and the board never waits for a
 * client. Every request is bounded: connections (control_slots.h: a flood cannot keep a
 * status request out), memory per connection, body size, time, and the event queue of each
 * /api/events client (a client that falls behind is dropped).
 *
 *   GET  /                 the board page (emul/www, embedded at build time)
 *   GET  /api/status       board, network, transfer, flash (control_api.h)
 *   POST /api/reset        {"key": true|false}: reset with or without the Key held
 *   POST /api/power-cut    {} or {"mode": "torn"|"clean"}: the power fails now (tearing a
 *                          flash operation in progress) and comes back
 *   GET  /api/flash        the whole 1 MiB flash, application/octet-stream
 *   GET  /api/events       server-sent events: "log" (LCD lines) and "progress"
 */
#ifndef IAPD_CONTROL_H
#define IAPD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control_api.h"
#include "flash_model.h"
#include "iap_writer.h"
#include "log.h"

struct control_board {
  /* Fills the board and network parts of the snapshot (the transfer and flash parts are
   * filled from writer and flash below). */
  void (*status)(void *ctx, struct board_status *out);
  /* Resets the board, as the Reset button with the Key held or not. */
  void (*reset)(void *ctx, bool key_held);
  /* True while a flash operation stalls the board (a reset waits for it: 409). */
  bool (*flash_busy)(void *ctx);
  /* The power fails now and comes back: mode -1 as the board is set, 0 torn, 1 clean. */
  void (*power_cut)(void *ctx, int mode, struct power_cut_report *out);
  void *ctx;
  const struct iap_writer *writer;
  const struct flash_model *flash;
};

struct control;

/* Listens on where (which must be enabled). NULL with a message in err on failure. */
struct control *control_start(const struct control_listen *where,
                              const struct control_board *board, uint32_t now_ms, char *err,
                              size_t err_size);

/* The descriptor to poll for POLLIN. */
int control_fd(const struct control *c);

/* Longest the poll may sleep before control_run must be called, -1 for no limit. */
int control_timeout_ms(struct control *c);

/* Serves what is ready (never blocks) and sends progress events. Call every loop turn. */
void control_run(struct control *c, uint32_t now_ms);

/* A log line for the event stream (and the backlog a new client gets). */
void control_log(struct control *c, enum iap_log_level level, const char *module,
                 const char *text);

/* Closes every connection and the listening socket. */
void control_stop(struct control *c);

#endif
