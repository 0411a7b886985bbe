/* The swap layout's install: swap with scratch, resumable at any flash operation
 * (see iap_swap.h). */
#include "iap_swap.h"

#include <string.h>

#include "iap_format.h"
#include "image.h"
#include "image_record.h"
#include "stm32f407.h"

#define JOURNAL_IN    0u    /* copy of the incoming record */
#define JOURNAL_OUT   64u   /* copy of the outgoing record, erased: none */
#define JOURNAL_MARKS 128u  /* marks of the last unit's steps and of the records step */
#define STEPS_PER_UNIT 3u

struct swap {
  const struct flash_dev *f;
  const struct iap_layout *l;
  struct iap_record in, out;  /* in: names the swap; out: kept in staging when have_out */
  bool have_out, revert;
  unsigned units;             /* sectors per slot */
};

bool iap_swap_layout(struct iap_layout *l, const struct image_area *user, char *why,
                     unsigned why_size)
{
  int first = stm32_flash_sector_of(user->base), last = stm32_flash_sector_of(user->end - 1);
  if (first < 0 || last < 0 || !stm32_flash_is_sector_start(user->base)) {
    iap_snprintf(why, why_size, "the user flash 0x%08x does not start a sector",
                 (unsigned)user->base);
    return false;
  }
  uint32_t size = stm32_flash_sector_size((unsigned)first);
  for (int s = first + 1; s <= last; s++)
    if (stm32_flash_sector_size((unsigned)s) != size) {
      iap_snprintf(why, why_size, "slots swap pairs sectors of one size: sector %d at 0x%08x "
                   "is %u KiB and sector %d is %u KiB; start the user flash at 0x%08x (a "
                   "128 KiB bootloader area)", first, (unsigned)user->base,
                   (unsigned)(size / 1024u), s,
                   (unsigned)(stm32_flash_sector_size((unsigned)s) / 1024u),
                   (unsigned)stm32_flash_sector_base((unsigned)s));
      return false;
    }
  /* Marks of all units but the last sit beside staging's record: 3 words each. */
  unsigned units = (unsigned)(last - first) / 2u;
  _Static_assert(IAP_PROGRESS_OFFSET + 4u * 3u * (6u - 1u) <= IAP_SLOT_META_BYTES,
                 "staging's metadata holds the marks of up to 6 units");
  if (units > 6u)
    units = 6u;
  if (units == 0) {
    iap_snprintf(why, why_size, "slots swap needs three sectors of user flash or more (two "
                 "slots and a scratch); user flash 0x%08x has %d", (unsigned)user->base,
                 last - first + 1);
    return false;
  }
  uint32_t p = stm32_flash_sector_base((unsigned)first);
  uint32_t s = p + units * size, x = s + units * size;
  l->primary.base = p;
  l->primary.end = s - IAP_SWAP_SLOT_TAIL;
  l->staging.base = s;
  l->staging.end = x - IAP_SWAP_SLOT_TAIL;
  l->scratch.base = x;
  l->scratch.end = x + size;
  return true;
}

/* --- steps and marks ------------------------------------------------------------------ */

static unsigned last_unit_first_step(const struct swap *s)
{
  return (s->units - 1u) * STEPS_PER_UNIT;
}

static unsigned records_step(const struct swap *s)
{
  return s->units * STEPS_PER_UNIT;
}

static uint32_t journal_addr(const struct swap *s)
{
  return s->l->scratch.end - IAP_SWAP_JOURNAL;
}

static uint32_t mark_value(const struct swap *s, unsigned step)
{
  return iap_progress_word(s->in.seq, (s->revert ? 0x200u : 0x100u) + step);
}

static uint32_t mark_addr(const struct swap *s, unsigned step)
{
  if (step < last_unit_first_step(s))
    return iap_slot_meta_addr(&s->l->staging) + IAP_PROGRESS_OFFSET + 4u * step;
  return journal_addr(s) + JOURNAL_MARKS + 4u * (step - last_unit_first_step(s));
}

static bool marked(const struct swap *s, unsigned step)
{
  uint8_t w[4];
  return flash_read(s->f, mark_addr(s, step), w, 4) == FLASH_OK
         && image_le32(w) == mark_value(s, step);
}

static enum flash_result mark(const struct swap *s, unsigned step)
{
  uint8_t w[4];
  image_put_le32(w, mark_value(s, step));
  return iap_program_checked(s->f, mark_addr(s, step), w, 4);
}

/* Sector number of unit k in a slot, and the bytes a unit's copies move: the whole sector,
 * but for the last unit only what lies before the slot's record. */
static unsigned unit_sector(const struct image_area *slot, unsigned k)
{
  return (unsigned)stm32_flash_sector_of(slot->base) + k;
}

static uint32_t unit_bytes(const struct swap *s, unsigned k)
{
  uint32_t size = stm32_flash_sector_size(unit_sector(&s->l->primary, k));
  return k + 1u < s->units ? size : iap_slot_meta_addr(&s->l->primary)
                                    - stm32_flash_sector_base(unit_sector(&s->l->primary, k));
}

static enum flash_result erase_copy(const struct swap *s, unsigned to_sector,
                                    unsigned from_sector, uint32_t len)
{
  enum flash_result fr = flash_erase_sector(s->f, to_sector);
  if (fr == FLASH_OK)
    fr = iap_flash_copy(s->f, stm32_flash_sector_base(from_sector),
                        stm32_flash_sector_base(to_sector), len);
  return fr;
}

static enum flash_result write_journal(const struct swap *s)
{
  enum flash_result fr = FLASH_OK;
  /* The outgoing copy first: a valid incoming copy then proves the journal complete. Both
   * name the staging slot, where the journal is read back against. */
  if (s->have_out) {
    struct iap_record o = s->out;
    o.image_addr = s->l->staging.base;
    fr = iap_record_write(s->f, journal_addr(s) + JOURNAL_OUT, &o);
  }
  if (fr == FLASH_OK)
    fr = iap_record_write(s->f, journal_addr(s) + JOURNAL_IN, &s->in);
  return fr;
}

static enum flash_result write_records(const struct swap *s)
{
  struct iap_record r = s->in;
  r.image_addr = s->l->primary.base;
  enum flash_result fr = iap_record_write(s->f, iap_slot_meta_addr(&s->l->primary), &r);
  if (fr == FLASH_OK && s->have_out) {
    r = s->out;
    r.image_addr = s->l->staging.base;
    fr = iap_record_write(s->f, iap_slot_meta_addr(&s->l->staging), &r);
  }
  return fr;
}

static enum flash_result run_step(const struct swap *s, unsigned step)
{
  if (step == records_step(s))
    return write_records(s);
  unsigned k = step / STEPS_PER_UNIT;
  unsigned p = unit_sector(&s->l->primary, k), st = unit_sector(&s->l->staging, k);
  unsigned x = (unsigned)stm32_flash_sector_of(s->l->scratch.base);
  uint32_t len = unit_bytes(s, k);
  enum flash_result fr;

  switch (step % STEPS_PER_UNIT) {
  case 0:
    fr = erase_copy(s, x, p, len);
    if (fr == FLASH_OK && k + 1u == s->units)
      fr = write_journal(s);
    return fr;
  case 1:
    return erase_copy(s, p, st, len);
  default:
    return erase_copy(s, st, x, len);
  }
}

static void run(const struct swap *s, unsigned from, struct iap_swap_result *out)
{
  out->revert = s->revert;
  out->steps_skipped = from;
  for (unsigned step = from; step <= records_step(s); step++) {
    out->fr = run_step(s, step);
    if (out->fr == FLASH_OK)
      out->fr = mark(s, step);
    if (out->fr != FLASH_OK)
      return;
    out->steps_done++;
  }
}

/* --- finding a swap under way --------------------------------------------------------- */

static bool read_record(const struct flash_dev *f, uint32_t addr, const struct image_area *slot,
                        struct iap_record *r)
{
  uint8_t b[IAP_RECORD_BYTES];
  return flash_read(f, addr, b, sizeof(b)) == FLASH_OK
         && iap_record_decode(b, slot->base, iap_slot_capacity(slot), r, NULL, 0)
                == IAP_RECORD_VALID;
}

/* True when step `first`'s mark is set for one kind of swap (which sets s->revert). */
static bool started(struct swap *s, unsigned first)
{
  for (int kind = 0; kind < 2; kind++) {
    s->revert = kind == 1;
    if (marked(s, first))
      return true;
  }
  return false;
}

static unsigned first_unmarked(const struct swap *s, unsigned from)
{
  while (from <= records_step(s) && marked(s, from))
    from++;
  return from;
}

static void swap_init(struct swap *s, const struct flash_dev *f, const struct iap_layout *l)
{
  memset(s, 0, sizeof(*s));
  s->f = f;
  s->l = l;
  s->units = (unsigned)(stm32_flash_sector_of(l->staging.base)
                        - stm32_flash_sector_of(l->primary.base));
}

static bool same_record(const struct iap_record *a, const struct iap_record *b)
{
  return a->seq == b->seq && a->image_len == b->image_len
         && a->trailer_len == b->trailer_len
         && memcmp(a->sha256, b->sha256, IAP_SHA256_BYTES) == 0;
}

/* A swap under way: s set up and *from the first step to run; false when there is none. */
static bool find_unfinished(struct swap *s, const struct flash_dev *f,
                            const struct iap_layout *l, unsigned *from)
{
  struct swap journal;
  unsigned journal_from = 0;

  /* The journal: once the last unit is under way, staging's record and marks may be erased
   * or torn. A journal whose records step is marked is a finished swap's. */
  swap_init(&journal, f, l);
  bool in_journal = read_record(f, journal_addr(&journal) + JOURNAL_IN, &l->staging,
                                &journal.in)
                    && started(&journal, last_unit_first_step(&journal))
                    && (journal_from = first_unmarked(&journal,
                                                      last_unit_first_step(&journal) + 1u))
                           <= records_step(&journal);
  /* Staging's record and the marks beside it: an earlier unit under way, the records where
   * they were. */
  swap_init(s, f, l);
  bool staged = read_record(f, iap_slot_meta_addr(&l->staging), &l->staging, &s->in);
  bool in_staging = staged && started(s, 0);
  /* Before the last unit the scratch holds a primary sector, whose last bytes are image
   * bytes: they count as a journal only for the image staging's record names, while it
   * names one (from the last unit's step 2 on it is erased, then the old image's). */
  if (in_journal && (!staged || same_record(&journal.in, &s->in))) {
    journal.have_out = read_record(f, journal_addr(&journal) + JOURNAL_OUT, &l->staging,
                                   &journal.out);
    *s = journal;
    *from = journal_from;
    return true;
  }
  if (!in_staging)
    return false;
  s->have_out = !s->revert
                && read_record(f, iap_slot_meta_addr(&l->primary), &l->primary, &s->out);
  *from = first_unmarked(s, 1);
  return *from <= records_step(s);
}

bool iap_swap_unfinished(const struct flash_dev *f, const struct iap_layout *l)
{
  struct swap s;
  unsigned from;
  return find_unfinished(&s, f, l, &from);
}

bool iap_swap_resume(const struct flash_dev *f, const struct iap_layout *l,
                     struct iap_swap_result *out)
{
  struct swap s;
  unsigned from;

  memset(out, 0, sizeof(*out));
  if (!find_unfinished(&s, f, l, &from))
    return false;
  out->resumed = true;
  run(&s, from, out);
  return true;
}

void iap_swap_start(const struct flash_dev *f, const struct iap_layout *l,
                    const struct iap_record *in, const struct iap_record *out_rec,
                    bool revert, struct iap_swap_result *out)
{
  struct swap s;

  memset(out, 0, sizeof(*out));
  swap_init(&s, f, l);
  s.in = *in;
  s.revert = revert;
  s.have_out = out_rec != NULL;
  if (out_rec != NULL)
    s.out = *out_rec;
  run(&s, 0, out);
}
