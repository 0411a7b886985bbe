/*
 * The flash as silicon behaves, around whichever flash device --flash-driver picked (the chip
 * model directly, or the firmware's STM32 driver over the register model): a flash device
 * that wraps it and adds what an instant, atomic memory lacks.
 *
 *  - Operations are counted from power-on: one sector erase, or one program call of the flash
 *    interface whatever its length, is one operation (reads and syncs are not).
 *  - Operations take time (flash_timing.h): each is charged at the parallelism the driver ran
 *    it at (psize hook: FLASH_CR.PSIZE of the register model; x32 for the direct device), per
 *    program access and per sector erase. The silicon time is summed unscaled (at typical
 *    values when the timing is none, for the record); the board stalls for it times the scale
 *    when the timing is on. The operation takes effect at once; the stall is a time, busy
 *    until, which the owner of the main loop honours (no frames, no timers until then).
 *  - The power can fail. When operation cut_at_op begins, or at once (flash_silicon_cut_now()
 *    from the control server), with torn or clean semantics:
 *      clean: the operation in progress does not happen;
 *      torn:  a program call stores a random prefix of its accesses (words, when aligned),
 *             then one access with only some of its 1->0 bits applied, nothing after; a
 *             sector erase leaves a random run of the sector's words erased, the word after
 *             the run half erased (some of its 0 bits back to 1, some still 0), the rest as
 *             it was.
 *    Random is a splitmix64 seeded with the seed and the operation's number, so the same seed
 *    tears the same operation the same way. After a cut every operation is refused until
 *    flash_silicon_power_on(): the chip has no power.
 *  - A cut during a stall tears the operation the stall is in: while busy, the device keeps a
 *    copy of what each operation of the stall overwrote (a journal of at most
 *    FLASH_SILICON_JOURNAL operations), so it can put the bytes back and tear them; operations
 *    the stall had not reached yet are undone.
 */
#ifndef IAPD_FLASH_SILICON_H
#define IAPD_FLASH_SILICON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash.h"
#include "flash_model.h"
#include "flash_timing.h"

#define FLASH_SILICON_JOURNAL 16u
#define FLASH_SILICON_WHAT_MAX 200u

enum flash_cut_mode { FLASH_CUT_TORN, FLASH_CUT_CLEAN };

const char *flash_cut_mode_str(enum flash_cut_mode m);

enum flash_op_kind { FLASH_OP_ERASE, FLASH_OP_PROGRAM };

/* One operation, as the board ran it. */
struct flash_silicon_op {
  enum flash_op_kind kind;
  uint32_t number;            /* since power-on, from 1 */
  uint32_t addr, len;         /* the range it touches: the sector for an erase */
  unsigned sector;            /* erase */
  uint32_t accesses;          /* program accesses the chip made */
  enum flash_psize psize;
  uint32_t silicon_us;        /* unscaled */
  uint64_t start_us, end_us;  /* the stall, in now_us() time; equal when nothing stalls */
};

struct flash_silicon_config {
  enum flash_timing timing;
  double scale;               /* stall = silicon time x scale; > 0 */
  uint32_t cut_at_op;         /* 0: the power never fails by itself */
  enum flash_cut_mode cut_mode;
  uint64_t seed;
};

struct flash_silicon_hooks {
  uint64_t (*now_us)(void *ctx);            /* a monotonic clock */
  enum flash_psize (*psize)(void *ctx);     /* parallelism of the inner device's last op */
  void (*on_op)(void *ctx, const struct flash_silicon_op *op);  /* after each; may be NULL */
  /* The power failed when operation `op` began (cut_at_op); `what` says what was torn.
   * May not return (iapd exits); if it does, the operation is refused. */
  void (*power_cut)(void *ctx, uint32_t op, const char *what);
  void *ctx;
};

struct flash_silicon_entry {
  struct flash_silicon_op op;
  uint8_t *before;            /* the range as it was before the operation */
};

struct flash_silicon {
  const struct flash_dev *inner;
  struct flash_model *model;
  struct flash_silicon_config cfg;
  struct flash_silicon_hooks hooks;
  uint32_t ops;               /* operations since power-on */
  bool off;                   /* the power failed: nothing more happens */
  uint64_t busy_until_us;
  uint64_t silicon_us;        /* since power-on, unscaled */
  struct flash_silicon_entry journal[FLASH_SILICON_JOURNAL];
  unsigned journal_len;
  struct flash_dev dev;
};

/* Returns &s->dev, the device over inner (whose bytes live in model). */
const struct flash_dev *flash_silicon_init(struct flash_silicon *s,
                                           const struct flash_dev *inner,
                                           struct flash_model *model,
                                           const struct flash_silicon_config *cfg,
                                           const struct flash_silicon_hooks *hooks);

/* True while an operation stalls the board. */
bool flash_silicon_busy(const struct flash_silicon *s, uint64_t now_us);

/* Forgets what the journal kept of operations that have ended by now_us. */
void flash_silicon_settle(struct flash_silicon *s, uint64_t now_us);

/* The power fails now: an operation in progress (a stall that has not ended) is torn or not
 * done as mode says, the ones after it in the same stall are undone. Writes into what what
 * was torn ("no flash operation in progress" when none) and returns the number of the
 * operation in progress, or 0. */
uint32_t flash_silicon_cut_now(struct flash_silicon *s, uint64_t now_us,
                               enum flash_cut_mode mode, char *what, size_t what_size);

/* Power on: operations count from 0 again, nothing is busy. */
void flash_silicon_power_on(struct flash_silicon *s);

/* Frees the journal. */
void flash_silicon_release(struct flash_silicon *s);

/* --- the tearing itself, over the 1 MiB array, for the unit tests too ---------------------- */

/* splitmix64. */
uint64_t flash_silicon_random(uint64_t *state);

/* The state for tearing operation `op` under seed. */
uint64_t flash_silicon_seed_for(uint64_t seed, uint32_t op);

/* A program call of len bytes at addr whose range held `before` and would hold `after` once
 * complete, cut: mem (the array, byte i = 0x08000000 + i) gets before, then a random prefix
 * of the accesses from after, then one access with some of its 1->0 bits, nothing after.
 * Describes it in what. */
void flash_silicon_tear_program(uint8_t *mem, uint32_t addr, uint32_t len,
                                const uint8_t *before, const uint8_t *after, uint64_t *rng,
                                char *what, size_t what_size);

/* A sector erase cut: before everywhere, a random run of words erased, the next word half
 * erased. */
void flash_silicon_tear_erase(uint8_t *mem, unsigned sector, const uint8_t *before,
                              uint64_t *rng, char *what, size_t what_size);

#endif
