/* LZMA decoding for the stub (see lzma_block.h). Names follow the specification's. */
#include "lzma_block.h"

/* The probability array, one block of counters after another. */
enum {
  P_IS_MATCH = 0,                       /* [state][pos_state]: 12 x 16 */
  P_IS_REP = P_IS_MATCH + 192,          /* [state] */
  P_IS_REP_G0 = P_IS_REP + 12,
  P_IS_REP_G1 = P_IS_REP_G0 + 12,
  P_IS_REP_G2 = P_IS_REP_G1 + 12,
  P_IS_REP0_LONG = P_IS_REP_G2 + 12,    /* [state][pos_state] */
  P_POS_SLOT = P_IS_REP0_LONG + 192,    /* [len_state]: 4 six-bit trees */
  P_POS_SPECIAL = P_POS_SLOT + 256,     /* the reverse trees of slots 4..13, from index 1 */
  P_ALIGN = P_POS_SPECIAL + 115,        /* the four low bits of slots 14 and up */
  P_LEN = P_ALIGN + 16,                 /* a length coder: */
  P_REP_LEN = P_LEN + 514,              /*   choice, choice2, low[16][8], mid[16][8], high[256] */
  P_LITERAL = P_REP_LEN + 514,          /* 0x300 per literal context */
};

struct range_decoder {
  const uint8_t *in, *end;
  uint32_t range, code;
  int overrun;           /* the stream was read past its end: malformed */
};

static uint32_t next_byte(struct range_decoder *rc)
{
  if (rc->in == rc->end) {
    rc->overrun = 1;
    return 0;
  }
  return *rc->in++;
}

/* One bit with the adaptive probability *p (11 bits of 2048 that the bit is 0). */
static unsigned bit(struct range_decoder *rc, uint16_t *p)
{
  uint32_t bound = (rc->range >> 11) * *p;
  unsigned b;
  if (rc->code < bound) {
    rc->range = bound;
    *p = (uint16_t)(*p + ((2048u - *p) >> 5));
    b = 0;
  } else {
    rc->range -= bound;
    rc->code -= bound;
    *p = (uint16_t)(*p - (*p >> 5));
    b = 1;
  }
  if (rc->range < (1u << 24)) {
    rc->range <<= 8;
    rc->code = rc->code << 8 | next_byte(rc);
  }
  return b;
}

/* bits bits, most significant first, through the tree p[1 .. 2^bits). */
static unsigned tree(struct range_decoder *rc, uint16_t *p, unsigned bits)
{
  unsigned m = 1;
  for (unsigned i = 0; i < bits; i++)
    m = m << 1 | bit(rc, p + m);
  return m - (1u << bits);
}

/* The same, least significant bit first. */
static unsigned reverse_tree(struct range_decoder *rc, uint16_t *p, unsigned bits)
{
  unsigned m = 1, symbol = 0;
  for (unsigned i = 0; i < bits; i++) {
    unsigned b = bit(rc, p + m);
    m = m << 1 | b;
    symbol |= b << i;
  }
  return symbol;
}

/* bits bits at probability one half. */
static uint32_t direct(struct range_decoder *rc, unsigned bits)
{
  uint32_t v = 0;
  while (bits--) {
    rc->range >>= 1;
    unsigned b = rc->code >= rc->range;
    if (b)
      rc->code -= rc->range;
    v = v << 1 | b;
    if (rc->range < (1u << 24)) {
      rc->range <<= 8;
      rc->code = rc->code << 8 | next_byte(rc);
    }
  }
  return v;
}

/* A match length less 2: 0..7, 8..15 by pos_state, or 16..271. */
static unsigned length(struct range_decoder *rc, uint16_t *p, unsigned pos_state)
{
  if (!bit(rc, p))
    return tree(rc, p + 2 + pos_state * 8, 3);
  if (!bit(rc, p + 1))
    return 8 + tree(rc, p + 130 + pos_state * 8, 3);
  return 16 + tree(rc, p + 258, 8);
}

/* A new match's distance less 1, its slot chosen by its length (len: length less 2). */
static uint32_t distance(struct range_decoder *rc, uint16_t *probs, unsigned len)
{
  unsigned slot = tree(rc, probs + P_POS_SLOT + (len < 3 ? len : 3) * 64, 6);
  if (slot < 4)
    return slot;
  unsigned bits = (slot >> 1) - 1;
  uint32_t d = (2u | (slot & 1u)) << bits;
  if (slot < 14)
    return d + reverse_tree(rc, probs + P_POS_SPECIAL + d - slot, bits);
  d += direct(rc, bits - 4) << 4;
  return d + reverse_tree(rc, probs + P_ALIGN, 4);
}

long lzma_block_unpack(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len,
                       uint16_t *probs, size_t probs_count)
{
  if (in_len < 6 || in[0] >= 9 * 5 * 5 || in[1] != 0)
    return -1;
  unsigned lc = in[0] % 9, lp = in[0] / 9 % 5, pb = in[0] / 45;
  if (lc + lp > LZMA_BLOCK_LCLP_MAX || LZMA_BLOCK_PROBS(lc + lp) > probs_count)
    return -1;
  for (size_t i = 0; i < LZMA_BLOCK_PROBS(lc + lp); i++)
    probs[i] = 1024;

  struct range_decoder rc = { in + 2, in + in_len, 0xFFFFFFFFu, 0, 0 };
  for (int i = 0; i < 4; i++)
    rc.code = rc.code << 8 | next_byte(&rc);

  uint32_t rep0 = 0, rep1 = 0, rep2 = 0, rep3 = 0;
  unsigned state = 0;
  size_t pos = 0;
  while (pos < out_len) {
    unsigned pos_state = (unsigned)pos & ((1u << pb) - 1);
    if (!bit(&rc, probs + P_IS_MATCH + state * 16 + pos_state)) {
      unsigned prev = pos > 0 ? out[pos - 1] : 0;
      unsigned context = (((unsigned)pos & ((1u << lp) - 1)) << lc) + (prev >> (8 - lc));
      uint16_t *lit = probs + P_LITERAL + 0x300 * context;
      unsigned symbol = 1;
      if (state >= 7) {
        /* after a match, the byte at the match's distance guides the first bits */
        if (rep0 >= pos)
          return -1;
        unsigned match = out[pos - rep0 - 1];
        do {
          unsigned match_bit = (match >> 7) & 1u;
          match <<= 1;
          unsigned b = bit(&rc, lit + ((1 + match_bit) << 8) + symbol);
          symbol = symbol << 1 | b;
          if (b != match_bit)
            break;
        } while (symbol < 0x100);
      }
      while (symbol < 0x100)
        symbol = symbol << 1 | bit(&rc, lit + symbol);
      out[pos++] = (uint8_t)symbol;
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      continue;
    }

    unsigned len;
    if (!bit(&rc, probs + P_IS_REP + state)) {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      len = length(&rc, probs + P_LEN, pos_state);
      state = state < 7 ? 7 : 10;
      rep0 = distance(&rc, probs, len);   /* the end marker, 0xFFFFFFFF, fails below */
    } else {
      if (!bit(&rc, probs + P_IS_REP_G0 + state)) {
        if (!bit(&rc, probs + P_IS_REP0_LONG + state * 16 + pos_state)) {
          /* one byte at the last distance */
          state = state < 7 ? 9 : 11;
          if (rep0 >= pos)
            return -1;
          out[pos] = out[pos - rep0 - 1];
          pos++;
          continue;
        }
      } else {
        uint32_t d;
        if (!bit(&rc, probs + P_IS_REP_G1 + state)) {
          d = rep1;
        } else {
          if (!bit(&rc, probs + P_IS_REP_G2 + state)) {
            d = rep2;
          } else {
            d = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = d;
      }
      len = length(&rc, probs + P_REP_LEN, pos_state);
      state = state < 7 ? 8 : 11;
    }
    len += 2;
    if (rep0 >= pos || len > out_len - pos)
      return -1;
    for (; len > 0; len--, pos++)
      out[pos] = out[pos - rep0 - 1];
  }
  return rc.overrun ? -1 : (long)pos;
}
