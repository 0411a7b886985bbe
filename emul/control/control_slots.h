/*
 * Who gets a connection of the control server when a flood wants them all: the control
 * server's connections in slots, and which one a new connection closes. At its own limits
 * libmicrohttpd stops accepting, and new connections, GET /api/status among them, wait in the
 * kernel's listen queue behind the flood (and are picked up a second late: it looks at the
 * listening socket again only on its next turn). So the server keeps its own limits,
 * CONTROL_SLOTS connections and CONTROL_SLOTS_PER_ADDRESS from one address, and gives
 * libmicrohttpd twice as many, room for the connections on their way out. What it promises:
 *  - a new connection past a limit closes one: of its own address when that address is over
 *    its limit;
 *  - one without a request in progress goes first (silent, or trickling its head), the
 *    oldest first, else the one whose request began first (a reader that does not read),
 *    and the new one itself only when all the others are event streams;
 *  - an event stream is never closed for a new connection (there are at most 8: the rest of
 *    the slots stay for requests);
 *  - no allocation: the slots are an array; pure logic, unit-tested without a socket.
 */
#ifndef IAPD_CONTROL_SLOTS_H
#define IAPD_CONTROL_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONTROL_SLOTS 16u
#define CONTROL_SLOTS_PER_ADDRESS 12u
/* libmicrohttpd's limits: these plus as many on their way out. */
#define CONTROL_SLOTS_HARD (2u * CONTROL_SLOTS)
#define CONTROL_SLOTS_HARD_PER_ADDRESS (2u * CONTROL_SLOTS_PER_ADDRESS)

struct control_slot {
  bool used;
  bool busy;                      /* a request in progress */
  bool stream;                    /* an event stream: never closed for another */
  bool closing;                   /* chosen to make room; gone at the next turn */
  uint32_t since_ms;              /* when it became idle, or its request began */
  struct sockaddr_storage addr;   /* the client; the port does not count */
  void *conn;                     /* the server's handle */
};

struct control_slots {
  struct control_slot slot[CONTROL_SLOTS_HARD];
};

/* A new connection from addr. Returns its slot (NULL when none is free: libmicrohttpd's
 * limit refuses it anyway) and, in *evict, the slot to close (NULL when the limits hold;
 * maybe the new one's own); that slot is marked closing. */
struct control_slot *control_slots_add(struct control_slots *s, void *conn,
                                       const struct sockaddr *addr, uint32_t now_ms,
                                       struct control_slot **evict);

/* The connection's request began (busy) or its answer is done (idle again). */
void control_slots_busy(struct control_slot *slot, bool busy, uint32_t now_ms);

/* The connection closed. */
void control_slots_remove(struct control_slot *slot);

#endif
