/*
 * What iapctl reads from GET /api/status (the members documented in iapd(8), built by
 * control_status_json()) and how it says it to a person: a few lines for `iapctl status`,
 * one phrase for the messages of `iapctl wait`. Strings come from the board, and some of
 * the board's words come from clients (a peer address, an image's vectors): control
 * characters are shown as '?' so that a reply cannot drive the terminal.
 */
#ifndef IAPD_CTL_STATUS_H
#define IAPD_CTL_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The strings point into the JSON value they were read from: keep it while they are used. */
struct ctl_status {
  bool application;             /* board.mode: "application"; false: "iap" */
  const char *reason, *detail;
  const char *msp, *pc;         /* NULL in IAP mode */
  const char *ip, *netmask, *gateway, *address_source;
  bool up;
  bool transfer;                /* an upload in progress: the members below */
  const char *protocol, *peer;
  json_int_t bytes, expected_bytes, percent;   /* the last two -1 when not announced */
  json_int_t rate_bytes_per_s;
};

/* Reads status; false with a sentence in why when a member is missing or of another type. */
bool ctl_status_read(const json_t *status, struct ctl_status *out, char *why,
                     size_t why_size);

/* The lines of `iapctl status`:
 *   mode:      iap
 *   reason:    no application
 *   detail:    no application at 0x08010000 (erased)
 *   address:   192.168.0.10 netmask 255.255.255.0 gateway 192.168.0.1 (static)
 *   transfer:  none                                                            */
void ctl_status_print(FILE *out, const struct ctl_status *s);

/* "is in IAP mode: <detail>" or "runs the application: MSP=0x... PC=0x...", for a sentence
 * that starts with "the board". */
void ctl_status_describe(FILE *out, const struct ctl_status *s);

/* text as it is, but a byte below 0x20, DEL, or a C1 control (U+0080 to U+009F, 0xC2 0x80
 * to 0xC2 0x9F in UTF-8) comes out as '?': those are terminal commands, not words. */
void ctl_put_text(FILE *out, const char *text);

#endif
