/* The control server's connection slots (see control_slots.h). */
#include "control_slots.h"

#include <netinet/in.h>
#include <string.h>

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr *b)
{
  if (a->ss_family != b->sa_family)
    return false;
  if (b->sa_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr
           == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  if (b->sa_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
  return true;  /* no address to tell clients apart (a socket pair): all one */
}

static size_t address_size(const struct sockaddr *a)
{
  switch (a->sa_family) {
  case AF_INET: return sizeof(struct sockaddr_in);
  case AF_INET6: return sizeof(struct sockaddr_in6);
  default: return sizeof(struct sockaddr);
  }
}

/* Which of a and b to close first: idle before busy, then the older (the first added of
 * two as old). */
static bool worse(const struct control_slot *a, const struct control_slot *b, uint32_t now_ms)
{
  if (a->busy != b->busy)
    return !a->busy;
  return now_ms - a->since_ms > now_ms - b->since_ms;
}

/* The slot to close for the new one, among those of addr (or all, addr NULL); the new one
 * itself when there is no other. */
static struct control_slot *victim(struct control_slots *s, struct control_slot *new_slot,
                                   const struct sockaddr *addr, uint32_t now_ms)
{
  struct control_slot *v = NULL;
  for (unsigned i = 0; i < CONTROL_SLOTS_HARD; i++) {
    struct control_slot *c = &s->slot[i];
    if (!c->used || c->closing || c->stream || c == new_slot
        || (addr != NULL && !same_address(&c->addr, addr)))
      continue;
    if (v == NULL || worse(c, v, now_ms))
      v = c;
  }
  return v != NULL ? v : new_slot;
}

struct control_slot *control_slots_add(struct control_slots *s, void *conn,
                                       const struct sockaddr *addr, uint32_t now_ms,
                                       struct control_slot **evict)
{
  struct control_slot *slot = NULL;
  unsigned open = 0, from_addr = 0;

  *evict = NULL;
  for (unsigned i = 0; i < CONTROL_SLOTS_HARD && slot == NULL; i++)
    if (!s->slot[i].used)
      slot = &s->slot[i];
  if (slot == NULL)
    return NULL;
  memset(slot, 0, sizeof(*slot));
  slot->used = true;
  slot->since_ms = now_ms;
  slot->conn = conn;
  memcpy(&slot->addr, addr, address_size(addr));

  for (unsigned i = 0; i < CONTROL_SLOTS_HARD; i++) {
    const struct control_slot *c = &s->slot[i];
    if (!c->used || c->closing)
      continue;  /* free, or on its way out: gone */
    open++;
    if (same_address(&c->addr, addr))
      from_addr++;
  }
  /* Over a limit with this one? Then another goes, of this address first; the new one only
   * when all the others are streams. */
  if (from_addr > CONTROL_SLOTS_PER_ADDRESS)
    *evict = victim(s, slot, addr, now_ms);
  else if (open > CONTROL_SLOTS)
    *evict = victim(s, slot, NULL, now_ms);
  if (*evict != NULL)
    (*evict)->closing = true;
  return slot;
}

void control_slots_busy(struct control_slot *slot, bool busy, uint32_t now_ms)
{
  if (slot == NULL || slot->busy == busy)
    return;
  slot->busy = busy;
  slot->since_ms = now_ms;
}

void control_slots_remove(struct control_slot *slot)
{
  if (slot != NULL)
    memset(slot, 0, sizeof(*slot));
}
