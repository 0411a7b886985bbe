/* LWIP_RAND() from the board's RNG (see iap_random.h). */
#include "iap_random.h"

#include <stddef.h>

#include "lwip/sys.h"

static const struct board *source;

void iap_random_use(const struct board *board)
{
  source = board;
}

uint32_t iap_random32(void)
{
  static uint32_t fallback;
  uint32_t v;

  if (source != NULL && source->ops->random(source->ctx, &v, sizeof(v)))
    return v;
  /* Knuth's multiplicative hash of the clock and a counter: not secret, but different for
   * each call. */
  fallback += 0x9E3779B9u;
  return (sys_now() ^ fallback) * 2654435761u;
}
