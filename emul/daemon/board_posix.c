/* The board seam (src/board.h) for the emulated board. */
#include "board_posix.h"

#include <stddef.h>
#include <sys/random.h>

#include "board.h"
#include "log.h"

static bool key_held;
static void (*jump_fn)(uint32_t msp, uint32_t pc, void *ctx);
static void *jump_ctx;

void board_posix_set_key(bool held)
{
  key_held = held;
}

void board_posix_on_jump(void (*fn)(uint32_t msp, uint32_t pc, void *ctx), void *ctx)
{
  jump_fn = fn;
  jump_ctx = ctx;
}

bool board_key_pressed(void)
{
  return key_held;
}

void board_jump_to_application(uint32_t msp, uint32_t pc)
{
  log_info("boot", "jump to application: MSP=0x%08x PC=0x%08x", msp, pc);
  if (jump_fn)
    jump_fn(msp, pc, jump_ctx);
}

bool board_random_bytes(void *buf, size_t len)
{
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n <= 0)
      return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}
