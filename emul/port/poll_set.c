/* The main loop's poll(2) set (see poll_set.h). */
#include "poll_set.h"

#include <stdlib.h>

bool poll_set_init(struct poll_set *ps, size_t capacity)
{
  ps->count = 0;
  ps->capacity = capacity;
  ps->fds = calloc(capacity, sizeof(*ps->fds));
  return ps->fds != NULL;
}

void poll_set_clear(struct poll_set *ps)
{
  ps->count = 0;
}

int poll_set_add(struct poll_set *ps, int fd, short events)
{
  if (ps->count == ps->capacity) {
    size_t bigger = ps->capacity ? 2 * ps->capacity : 8;
    struct pollfd *grown = realloc(ps->fds, bigger * sizeof(*grown));
    if (grown == NULL)
      return -1;
    ps->fds = grown;
    ps->capacity = bigger;
  }
  ps->fds[ps->count] = (struct pollfd){ .fd = fd, .events = events, .revents = 0 };
  return (int)ps->count++;
}

short poll_set_revents(const struct poll_set *ps, int idx)
{
  if (idx < 0 || (size_t)idx >= ps->count)
    return 0;
  return ps->fds[idx].revents;
}

void poll_set_free(struct poll_set *ps)
{
  free(ps->fds);
  ps->fds = NULL;
  ps->count = ps->capacity = 0;
}
