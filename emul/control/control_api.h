/*
 * The control API without HTTP: what the board reports (a status snapshot and its JSON), what
 * a client may send (the reset request body), where the server listens, which Host headers it
 * answers, and the server-sent-events framing. Pure functions, so the unit tests check every
 * byte; emul/control.c puts them on libmicrohttpd.
 */
#ifndef IAPD_CONTROL_API_H
#define IAPD_CONTROL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "log.h"
#include "stm32f407.h"

#define CONTROL_DEFAULT_LISTEN "127.0.0.1:8069"

/* The upload in progress, as the board's flash writer sees it. */
struct control_transfer {
  bool active;
  const char *protocol;   /* "TFTP", "HTTP" */
  const char *peer;       /* "192.168.0.1:37713" */
  uint32_t bytes;         /* received so far */
  uint32_t expected;      /* announced size, 0 when the client did not say */
  uint32_t elapsed_ms;    /* since the transfer began */
};

struct board_status {
  /* The board: IAP mode, or the application running. */
  bool application;
  const char *reason;     /* boot_reason_str() of the last reset */
  const char *detail;     /* why, in words, as logged */
  bool key_held;          /* Key as of the last reset */
  uint32_t msp, pc;       /* the application's vectors, when it runs */
  uint32_t uptime_ms;
  const char *flash_error;  /* the flash file is lost (deleted, replaced): why; NULL if not */
  /* The network. */
  const char *backend;    /* "tap" or "pcap" */
  const char *interface;
  uint8_t mac[6];
  uint8_t ip[4], netmask[4], gateway[4];
  const char *address_source;  /* "static", "dhcp", "fallback" or "pending" */
  bool up;                /* lwIP's interface is up (down while the application runs) */
  uint32_t rx_frames, tx_frames;
  uint32_t rx_dropped_stalled;  /* arrived during a flash stall with the receive ring full */
  /* The upload in progress (transfer.active false: none). */
  struct control_transfer transfer;
  /* The flash. */
  uint32_t user_flash;              /* first address of the user area */
  uint32_t protected_sectors;       /* bit n: sector n holds the bootloader */
  bool erased[STM32_FLASH_SECTOR_COUNT];
  uint32_t erase_count[STM32_FLASH_SECTOR_COUNT];
  /* The boot policy and the slots, as the last reset found them. */
  const char *boot_verify;          /* "vectors", "integrity" or "signature" */
  const char *layout;               /* "single", "dual" or "swap" */
  unsigned slot_count;              /* 1 (single), 2 (dual), 3 (swap: and the scratch) */
  struct control_image_slot {
    const char *name;               /* "primary", "staging", "scratch" */
    uint32_t address, end;          /* [address, end) */
    uint32_t max_image;             /* bytes an image (and trailer) may take */
    const char *content;            /* iap_slot_content_str(): empty, verified, ... */
    const char *detail;             /* why, as logged */
    bool record;                    /* a committed record: the fields below */
    uint32_t seq, image_len, trailer_len;
    char sha256[65];
  } slots[3];
  /* The flash as silicon (flash_silicon.h). */
  bool busy;                        /* an operation stalls the board now */
  const char *timing;               /* "none", "typical", "max" */
  double timing_scale;
  uint32_t operations;              /* flash operations since power-on */
  bool last_upgrade;                /* an upload ran since iapd started */
  uint32_t last_upgrade_silicon_ms; /* its flash operations' time on an STM32F407 */
  uint32_t power_cuts;              /* since iapd started */
};

/* What POST /api/power-cut did. */
struct power_cut_report {
  uint32_t operation;               /* the operation in progress, 0 when none */
  uint32_t operations;              /* operations since power-on when the power failed */
  const char *mode;                 /* "torn", "clean" */
  const char *what;                 /* what was torn, in words */
  bool application;                 /* after the power-on: the application runs */
};

/* The JSON values below are new jansson references (json_decref() them), NULL only when
 * out of memory. Their strings may hold any bytes: invalid UTF-8 comes out as U+FFFD
 * (control_json.h). */

/* GET /api/status: the whole snapshot as one JSON object (fields in man/iapd.8). */
json_t *control_status_json(const struct board_status *s);

/* The transfer object of the status and of "progress" events; null when none. */
json_t *control_transfer_json(const struct control_transfer *t);

/* The data of a "log" event: {"level":..,"module":..,"text":..,"uptime_ms":..}. */
json_t *control_log_json(enum iap_log_level level, const char *module, const char *text,
                         uint32_t uptime_ms);

/* The body of every refusal: {"error":"what is wrong"}. */
json_t *control_error_json(const char *message);

/* POST /api/reset body: a JSON object whose only member is "key", true or false; blanks
 * allowed. False with a sentence in why for anything else (for text that is not JSON:
 * jansson's message and where it stopped). */
bool control_parse_reset(const char *body, size_t len, bool *key_held, char *why,
                         size_t why_size);

/* POST /api/power-cut body: {} or {"mode": "torn"} or {"mode": "clean"}; blanks allowed.
 * *mode is -1 for {} (the board's --power-cut-mode), 0 torn, 1 clean. */
bool control_parse_power_cut(const char *body, size_t len, int *mode, char *why,
                             size_t why_size);

/* The reply of POST /api/power-cut. */
json_t *control_power_cut_json(const struct power_cut_report *r);

/* --control ADDR:PORT | none: an IPv4 address or [IPv6] address, or localhost, and a port
 * from 1 to 65535. */
struct control_listen {
  bool enabled;
  bool loopback;              /* 127.0.0.0/8 or ::1 */
  struct sockaddr_storage addr;
  socklen_t addr_len;
  char text[64];              /* as given, for messages */
};
bool control_parse_listen(const char *text, struct control_listen *out, char *why,
                          size_t why_size);

/* DNS rebinding defence: the Host header must name the server by address ("127.0.0.1:8069",
 * "[::1]:8069") or be localhost; a missing Host (HTTP/1.0) is allowed. */
bool control_host_allowed(const char *host);

/* One server-sent event, "event: NAME\ndata: DATA\n\n", into buf. DATA must be one line
 * (compact JSON is). Returns its length, 0 when it does not fit or DATA has a newline. */
size_t control_sse_format(char *buf, size_t size, const char *event, const char *data,
                          size_t data_len);

/* The same with DATA the compact text of data; 0 when it does not fit (an event is sent
 * whole or not at all) or data is NULL. */
size_t control_sse_event(char *buf, size_t size, const char *event, const json_t *data);

#endif
