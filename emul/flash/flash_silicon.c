/* The flash as silicon behaves: time, operation count, power cuts (see flash_silicon.h). */
#include "flash_silicon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stm32f407.h"

const char *flash_cut_mode_str(enum flash_cut_mode m)
{
  return m == FLASH_CUT_CLEAN ? "clean" : "torn";
}

/* --- random ------------------------------------------------------------------------------- */

uint64_t flash_silicon_random(uint64_t *state)
{
  uint64_t z = (*state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

uint64_t flash_silicon_seed_for(uint64_t seed, uint32_t op)
{
  uint64_t state = seed ^ ((uint64_t)op << 32 | op);
  (void)flash_silicon_random(&state);  /* one round apart: seeds 1 and 2 share no draws */
  return state;
}

/* A number from 0 to n - 1 (n > 0). */
static uint32_t below(uint64_t *rng, uint32_t n)
{
  return (uint32_t)(flash_silicon_random(rng) % n);
}

/* Some, not all and not none, of the set bits of `bits`: a random count from 1 to m - 1 of
 * its m bits, chosen at random. With fewer than two bits, none. */
static uint32_t some_bits(uint32_t bits, uint64_t *rng)
{
  unsigned pos[32], m = 0;
  for (unsigned i = 0; i < 32; i++)
    if (bits >> i & 1u)
      pos[m++] = i;
  if (m < 2)
    return 0;
  unsigned count = 1 + below(rng, m - 1);
  uint32_t chosen = 0;
  for (unsigned i = 0; i < count; i++) {  /* a partial Fisher-Yates shuffle */
    unsigned j = i + below(rng, m - i);
    unsigned t = pos[i];
    pos[i] = pos[j];
    pos[j] = t;
    chosen |= 1u << pos[i];
  }
  return chosen;
}

/* --- tearing ------------------------------------------------------------------------------ */

static uint32_t le(const uint8_t *p, unsigned width)
{
  uint32_t v = 0;
  for (unsigned i = 0; i < width; i++)
    v |= (uint32_t)p[i] << (8u * i);
  return v;
}

static void put_le(uint8_t *p, uint32_t v, unsigned width)
{
  for (unsigned i = 0; i < width; i++)
    p[i] = (uint8_t)(v >> (8u * i));
}

/* The access both drivers make next: the widest the alignment and the bytes left allow. */
static unsigned access_width(uint32_t addr, uint32_t left)
{
  if (addr % 4 == 0 && left >= 4)
    return 4;
  if (addr % 2 == 0 && left >= 2)
    return 2;
  return 1;
}

void flash_silicon_tear_program(uint8_t *mem, uint32_t addr, uint32_t len,
                                const uint8_t *before, const uint8_t *after, uint64_t *rng,
                                char *what, size_t what_size)
{
  uint8_t *p = mem + (addr - STM32_FLASH_BASE);
  uint32_t units = 0, off = 0;
  bool all_words = true;

  memcpy(p, before, len);
  for (uint32_t o = 0; o < len; units++) {
    unsigned w = access_width(addr + o, len - o);
    all_words = all_words && w == 4;
    o += w;
  }
  if (units == 0) {
    snprintf(what, what_size, "program of 0 bytes at 0x%08x: nothing to tear", (unsigned)addr);
    return;
  }
  uint32_t done = below(rng, units);
  for (uint32_t u = 0; u < done; u++)
    off += access_width(addr + off, len - off);
  memcpy(p, after, off);
  unsigned w = access_width(addr + off, len - off);
  uint32_t old = le(before + off, w), want = le(after + off, w);
  uint32_t torn = old & ~some_bits(old & ~want, rng);
  put_le(p + off, torn, w);
  snprintf(what, what_size,
           "program of %u bytes at 0x%08x torn: %u of %u %s programmed, 0x%08x reads 0x%0*x "
           "(0x%0*x intended), nothing after", (unsigned)len, (unsigned)addr, (unsigned)done,
           (unsigned)units, all_words ? "words" : "accesses", (unsigned)(addr + off),
           (int)(2 * w), (unsigned)torn, (int)(2 * w), (unsigned)want);
}

void flash_silicon_tear_erase(uint8_t *mem, unsigned sector, const uint8_t *before,
                              uint64_t *rng, char *what, size_t what_size)
{
  uint32_t base = stm32_flash_sector_base(sector), size = stm32_flash_sector_size(sector);
  uint8_t *p = mem + (base - STM32_FLASH_BASE);
  uint32_t words = size / 4;
  uint32_t first = below(rng, words);
  uint32_t end = first + 1 + below(rng, words - first);  /* the run is [first, end) */

  memcpy(p, before, size);
  memset(p + 4 * first, STM32_FLASH_ERASED_BYTE, 4 * (end - first));
  int n = snprintf(what, what_size,
                   "erase of sector %u (0x%08x, %u KiB) torn: 0x%08x-0x%08x erased", sector,
                   (unsigned)base, (unsigned)(size / 1024u), (unsigned)(base + 4 * first),
                   (unsigned)(base + 4 * end - 1));
  uint32_t old = end < words ? le(before + 4 * end, 4) : 0;
  uint32_t half = end < words ? old | some_bits(~old, rng) : 0;
  if (end < words && half != old) {
    /* The word after the run was being erased: some of its 0 bits are 1 again. (A word
     * already all 1s, or with a single 0 bit, has no "some but not all" to show.) */
    put_le(p + 4 * end, half, 4);
    if (n > 0 && (size_t)n < what_size)
      snprintf(what + n, what_size - (size_t)n,
               ", 0x%08x half erased (0x%08x, was 0x%08x), the rest as it was",
               (unsigned)(base + 4 * end), (unsigned)half, (unsigned)old);
  } else if (n > 0 && (size_t)n < what_size) {
    snprintf(what + n, what_size - (size_t)n, ", the rest as it was");
  }
}

/* --- the device --------------------------------------------------------------------------- */

static bool range_ok(uint32_t addr, size_t len)
{
  return addr >= STM32_FLASH_BASE && addr <= STM32_FLASH_END
         && len <= (size_t)(STM32_FLASH_END - addr);
}

static bool range_protected(const struct flash_model *m, uint32_t addr, size_t len)
{
  for (uint32_t a = addr; len > 0;) {
    int s = stm32_flash_sector_of(a);
    if ((m->protected_sectors >> (unsigned)s) & 1u)
      return true;
    uint32_t end = stm32_flash_sector_base((unsigned)s) + stm32_flash_sector_size((unsigned)s);
    if (end - a >= len)
      break;
    len -= end - a;
    a = end;
  }
  return false;
}

static void describe_clean(const struct flash_silicon_op *op, char *what, size_t what_size)
{
  if (op->kind == FLASH_OP_ERASE)
    snprintf(what, what_size, "erase of sector %u (0x%08x, %u KiB) not done (clean cut)",
             op->sector, (unsigned)op->addr, (unsigned)(op->len / 1024u));
  else
    snprintf(what, what_size, "program of %u bytes at 0x%08x not done (clean cut)",
             (unsigned)op->len, (unsigned)op->addr);
}

/* The operation `op` is cut: the array holds `before` over its range and would hold `after`
 * (NULL for an erase: all 0xFF) had it completed. */
static void cut(struct flash_silicon *s, const struct flash_silicon_op *op,
                enum flash_cut_mode mode, const uint8_t *before, const uint8_t *after,
                char *what, size_t what_size)
{
  uint8_t *mem = s->model->mem;
  uint64_t rng = flash_silicon_seed_for(s->cfg.seed, op->number);

  memcpy(mem + (op->addr - STM32_FLASH_BASE), before, op->len);
  if (mode == FLASH_CUT_CLEAN)
    describe_clean(op, what, what_size);
  else if (op->kind == FLASH_OP_ERASE)
    flash_silicon_tear_erase(mem, op->sector, before, &rng, what, what_size);
  else
    flash_silicon_tear_program(mem, op->addr, op->len, before, after, &rng, what, what_size);
}

static void journal_drop_first(struct flash_silicon *s)
{
  free(s->journal[0].before);
  memmove(&s->journal[0], &s->journal[1], (s->journal_len - 1) * sizeof(s->journal[0]));
  s->journal_len--;
}

void flash_silicon_settle(struct flash_silicon *s, uint64_t now_us)
{
  while (s->journal_len > 0 && s->journal[0].op.end_us <= now_us)
    journal_drop_first(s);
}

bool flash_silicon_busy(const struct flash_silicon *s, uint64_t now_us)
{
  return s->busy_until_us > now_us;
}

/* The power fails as operation `op` begins (cut_at_op). */
static enum flash_result cut_at_start(struct flash_silicon *s, struct flash_silicon_op *op,
                                      const void *data)
{
  char what[FLASH_SILICON_WHAT_MAX];
  uint8_t *before = malloc(op->len ? op->len : 1);
  uint8_t *after = malloc(op->len ? op->len : 1);

  s->off = true;
  if (before == NULL || after == NULL) {
    snprintf(what, sizeof(what), "out of memory: operation not done");
  } else if (!range_ok(op->addr, op->len) || range_protected(s->model, op->addr, op->len)) {
    /* The chip refuses such an operation before it starts: nothing to tear. */
    snprintf(what, sizeof(what), "%s at 0x%08x refused by the chip: nothing changed",
             op->kind == FLASH_OP_ERASE ? "erase" : "program", (unsigned)op->addr);
  } else {
    memcpy(before, s->model->mem + (op->addr - STM32_FLASH_BASE), op->len);
    for (uint32_t i = 0; i < op->len && op->kind == FLASH_OP_PROGRAM; i++)
      after[i] = before[i] & ((const uint8_t *)data)[i];  /* programming stores old AND new */
    cut(s, op, s->cfg.cut_mode, before, after, what, sizeof(what));
  }
  free(before);
  free(after);
  s->hooks.power_cut(s->hooks.ctx, op->number, what);
  return FLASH_ERR_IO;
}

/* Runs one operation through the inner device, charges its time, journals it while the
 * board stalls. */
static enum flash_result run_op(struct flash_silicon *s, struct flash_silicon_op *op,
                                const void *data)
{
  struct flash_model *m = s->model;
  uint64_t now = s->hooks.now_us(s->hooks.ctx);
  uint8_t *before = NULL;
  enum flash_result r;

  if (s->off)
    return FLASH_ERR_IO;  /* no power: the chip does nothing */
  op->number = ++s->ops;
  if (s->cfg.cut_at_op != 0 && op->number == s->cfg.cut_at_op)
    return cut_at_start(s, op, data);

  flash_silicon_settle(s, now);
  if (s->cfg.timing != FLASH_TIMING_NONE && range_ok(op->addr, op->len)) {
    before = malloc(op->len);
    if (before != NULL)
      memcpy(before, m->mem + (op->addr - STM32_FLASH_BASE), op->len);
  }
  uint32_t erases = op->kind == FLASH_OP_ERASE && op->sector < STM32_FLASH_SECTOR_COUNT
                    ? m->erase_count[op->sector] : 0;
  uint32_t accesses = m->program_accesses;
  if (op->kind == FLASH_OP_ERASE)
    r = flash_erase_sector(s->inner, op->sector);
  else
    r = flash_program(s->inner, op->addr, data, op->len);

  /* Charged for what the chip did: the accesses made, the erase if it happened. */
  enum flash_timing grade = s->cfg.timing == FLASH_TIMING_NONE ? FLASH_TIMING_TYPICAL
                                                              : s->cfg.timing;
  op->psize = s->hooks.psize(s->hooks.ctx);
  op->accesses = m->program_accesses - accesses;
  if (op->kind == FLASH_OP_ERASE)
    op->silicon_us = op->sector < STM32_FLASH_SECTOR_COUNT
                     && m->erase_count[op->sector] != erases
                     ? flash_timing_erase_us(grade, op->psize, op->len) : 0;
  else
    op->silicon_us = op->accesses * flash_timing_program_us(grade, op->psize);
  s->silicon_us += op->silicon_us;

  op->start_us = op->end_us = now;
  if (s->cfg.timing != FLASH_TIMING_NONE) {
    op->start_us = s->busy_until_us > now ? s->busy_until_us : now;
    op->end_us = op->start_us + flash_timing_scale_us(op->silicon_us, s->cfg.scale);
    s->busy_until_us = op->end_us;
  }
  if (before != NULL && op->end_us > now) {
    if (s->journal_len == FLASH_SILICON_JOURNAL)
      journal_drop_first(s);  /* the oldest can no longer be torn: counted as done */
    s->journal[s->journal_len].op = *op;
    s->journal[s->journal_len].before = before;
    s->journal_len++;
  } else {
    free(before);
  }
  if (s->hooks.on_op != NULL)
    s->hooks.on_op(s->hooks.ctx, op);
  return r;
}

static enum flash_result dev_erase_sector(void *ctx, unsigned sector)
{
  struct flash_silicon *s = ctx;
  struct flash_silicon_op op = { .kind = FLASH_OP_ERASE, .sector = sector };
  if (sector < STM32_FLASH_SECTOR_COUNT) {
    op.addr = stm32_flash_sector_base(sector);
    op.len = stm32_flash_sector_size(sector);
  }
  return run_op(s, &op, NULL);
}

static enum flash_result dev_program(void *ctx, uint32_t addr, const void *data, size_t len)
{
  struct flash_silicon *s = ctx;
  struct flash_silicon_op op = { .kind = FLASH_OP_PROGRAM, .addr = addr,
                                 .len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len };
  return run_op(s, &op, data);
}

static enum flash_result dev_read(void *ctx, uint32_t addr, void *buf, size_t len)
{
  struct flash_silicon *s = ctx;
  return flash_read(s->inner, addr, buf, len);
}

static enum flash_result dev_sync(void *ctx)
{
  struct flash_silicon *s = ctx;
  return flash_sync(s->inner);
}

static const struct flash_dev_ops flash_silicon_ops = {
  .erase_sector = dev_erase_sector,
  .program = dev_program,
  .read = dev_read,
  .sync = dev_sync,
};

const struct flash_dev *flash_silicon_init(struct flash_silicon *s,
                                           const struct flash_dev *inner,
                                           struct flash_model *model,
                                           const struct flash_silicon_config *cfg,
                                           const struct flash_silicon_hooks *hooks)
{
  memset(s, 0, sizeof(*s));
  s->inner = inner;
  s->model = model;
  s->cfg = *cfg;
  s->hooks = *hooks;
  s->dev.ops = &flash_silicon_ops;
  s->dev.ctx = s;
  return &s->dev;
}

uint32_t flash_silicon_cut_now(struct flash_silicon *s, uint64_t now_us,
                               enum flash_cut_mode mode, char *what, size_t what_size)
{
  uint32_t torn = 0;

  snprintf(what, what_size, "no flash operation in progress");
  flash_silicon_settle(s, now_us);
  /* Newest first: operations the stall had not reached are undone, then the one in
   * progress is cut over the bytes it found. */
  while (s->journal_len > 0) {
    struct flash_silicon_entry *e = &s->journal[s->journal_len - 1];
    uint8_t *range = s->model->mem + (e->op.addr - STM32_FLASH_BASE);
    if (e->op.start_us <= now_us) {
      uint8_t *after = malloc(e->op.len);
      if (after != NULL) {
        memcpy(after, range, e->op.len);
        cut(s, &e->op, mode, e->before, after, what, what_size);
        free(after);
        torn = e->op.number;
      }
      s->journal_len--;
      free(e->before);
      break;
    }
    memcpy(range, e->before, e->op.len);
    s->ops = e->op.number - 1;  /* it never began */
    free(e->before);
    s->journal_len--;
  }
  flash_silicon_release(s);
  s->off = true;
  s->busy_until_us = 0;
  return torn;
}

void flash_silicon_power_on(struct flash_silicon *s)
{
  flash_silicon_release(s);
  s->ops = 0;
  s->off = false;
  s->busy_until_us = 0;
  s->silicon_us = 0;
}

void flash_silicon_release(struct flash_silicon *s)
{
  while (s->journal_len > 0)
    journal_drop_first(s);
}
