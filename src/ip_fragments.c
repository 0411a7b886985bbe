/* IPv4 fragments are refused and logged (see ip_fragments.h). */
#include "ip_fragments.h"

#include <stdbool.h>

#include "log.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "tftp_opts.h"

#define IPV4_HEADER_MIN 20
/* RFC 791: the flags and fragment offset word; a fragment has MF set or a non-zero offset. */
#define IPV4_FLAGS_OFFSET 6
#define IPV4_MF 0x2000u
#define IPV4_OFFSET_MASK 0x1FFFu

static struct {
  uint32_t dropped;
  uint32_t unlogged;     /* dropped since the last log line */
  uint32_t logged_ms;
  bool logged;
} frags;

int ip_fragment_hook(struct pbuf *p, struct netif *inp)
{
  const uint8_t *h = p->payload;
  uint32_t now;
  (void)inp;

  /* lwIP checked the version only; a runt is left to its own checks. */
  if (p->len < IPV4_HEADER_MIN)
    return 0;
  unsigned word = (unsigned)h[IPV4_FLAGS_OFFSET] << 8 | h[IPV4_FLAGS_OFFSET + 1];
  if ((word & (IPV4_MF | IPV4_OFFSET_MASK)) == 0)
    return 0;
  frags.dropped++;
  frags.unlogged++;
  now = sys_now();
  if (!frags.logged || (uint32_t)(now - frags.logged_ms) >= IP_FRAGMENT_LOG_MS) {
    log_warn("net", "dropped %u IP fragment%s (the last from %u.%u.%u.%u): the board does not "
             "reassemble fragmented datagrams; a TFTP client must use blocks of at most %u "
             "bytes (blksize)", (unsigned)frags.unlogged, frags.unlogged == 1 ? "" : "s",
             h[12], h[13], h[14], h[15], (unsigned)TFTP_BLKSIZE_MAX);
    frags.logged = true;
    frags.logged_ms = now;
    frags.unlogged = 0;
  }
  pbuf_free(p);
  return 1;
}

uint32_t ip_fragments_dropped(void)
{
  return frags.dropped;
}
