/*
 * The main loop's poll(2) set, built afresh every turn: each descriptor added gets an index
 * to read its revents with after poll(). It grows as needed, because user-mode networking
 * adds one descriptor per slirp socket and that number is not known in advance.
 */
#ifndef IAPD_POLL_SET_H
#define IAPD_POLL_SET_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

struct poll_set {
  struct pollfd *fds;
  size_t count, capacity;
};

/* Room for capacity descriptors up front. false when out of memory. */
bool poll_set_init(struct poll_set *ps, size_t capacity);

/* Empties the set for the next turn; the memory stays. */
void poll_set_clear(struct poll_set *ps);

/* Adds fd (< 0: a placeholder poll() ignores) with the events wanted. Returns its index, or
 * -1 when the set cannot grow: the descriptor is then not watched this turn. */
int poll_set_add(struct poll_set *ps, int fd, short events);

/* What poll() reported for index idx; 0 for -1. */
short poll_set_revents(const struct poll_set *ps, int idx);

void poll_set_free(struct poll_set *ps);

#endif
