/*
 * A bounded byte queue of server-sent events for one client of GET /api/events. Events go in
 * whole or not at all: an event that does not fit marks the queue overflowed, and the server
 * drops that client rather than wait for it (a slow reader never holds up the board).
 */
#ifndef IAPD_CONTROL_EVENTS_H
#define IAPD_CONTROL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

struct event_queue {
  char *buf;
  size_t cap;
  size_t head;        /* index of the oldest byte */
  size_t len;         /* bytes queued */
  bool overflowed;    /* an event was refused: the client is too slow */
};

/* false when out of memory. */
bool event_queue_init(struct event_queue *q, size_t capacity);
void event_queue_free(struct event_queue *q);

/* Queues the whole event, or nothing and sets overflowed. */
bool event_queue_push(struct event_queue *q, const char *data, size_t len);

/* Moves up to max queued bytes to out; returns how many. */
size_t event_queue_pop(struct event_queue *q, char *out, size_t max);

#endif
