/* Bounded per-client event queue (see control_events.h). */
#include "control_events.h"

#include <stdlib.h>
#include <string.h>

bool event_queue_init(struct event_queue *q, size_t capacity)
{
  memset(q, 0, sizeof(*q));
  q->buf = malloc(capacity);
  if (q->buf == NULL)
    return false;
  q->cap = capacity;
  return true;
}

void event_queue_free(struct event_queue *q)
{
  free(q->buf);
  memset(q, 0, sizeof(*q));
}

bool event_queue_push(struct event_queue *q, const char *data, size_t len)
{
  if (q->overflowed || len > q->cap - q->len) {
    q->overflowed = true;
    return false;
  }
  size_t tail = (q->head + q->len) % q->cap;
  size_t first = len < q->cap - tail ? len : q->cap - tail;
  memcpy(q->buf + tail, data, first);
  memcpy(q->buf, data + first, len - first);
  q->len += len;
  return true;
}

size_t event_queue_pop(struct event_queue *q, char *out, size_t max)
{
  size_t n = max < q->len ? max : q->len;
  size_t first = n < q->cap - q->head ? n : q->cap - q->head;
  memcpy(out, q->buf + q->head, first);
  memcpy(out + first, q->buf, n - first);
  q->head = q->len == n ? 0 : (q->head + n) % q->cap;
  q->len -= n;
  return n;
}
