/* The LZ4 block packer (see lz4_pack.h). */
#include "lz4_pack.h"

#include <stdlib.h>
#include <string.h>

#define MIN_MATCH     4u
#define MAX_OFFSET    65535u
#define HASH_BITS     16u
#define CHAIN_DEPTH   1024u   /* earlier positions tried per position: enough for 100 KB */
#define LAST_LITERALS 5u      /* the format's end rules, which lz4's fast decoder relies on */
#define MATCH_END_GAP 12u
#define SHORT_LENGTHS 64u     /* lengths tried one by one; beyond, only the longest */

static uint32_t hash4(const uint8_t *p)
{
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return (v * 2654435761u) >> (32u - HASH_BITS);
}

/* Bytes a length of v takes beyond its nibble. */
static size_t extra_bytes(size_t v)
{
  return v < 15u ? 0u : 1u + (v - 15u) / 255u;
}

static uint8_t *put_length(uint8_t *op, size_t v)
{
  if (v < 15u)
    return op;
  v -= 15u;
  for (; v >= 255u; v -= 255u)
    *op++ = 255u;
  *op++ = (uint8_t)v;
  return op;
}

static uint8_t *put_sequence(uint8_t *op, const uint8_t *lit, size_t nlit, size_t offset,
                             size_t len)
{
  size_t mcode = len ? len - MIN_MATCH : 0u;
  *op++ = (uint8_t)((nlit < 15u ? nlit : 15u) << 4 | (len ? (mcode < 15u ? mcode : 15u) : 0u));
  op = put_length(op, nlit);
  memcpy(op, lit, nlit);
  op += nlit;
  if (len) {
    *op++ = (uint8_t)(offset & 0xFFu);
    *op++ = (uint8_t)(offset >> 8);
    op = put_length(op, mcode);
  }
  return op;
}

size_t lz4_block_pack(const uint8_t *in, size_t n, uint8_t *out)
{
  int32_t *head = malloc(sizeof *head << HASH_BITS);
  int32_t *prev = malloc(sizeof *prev * (n + 1));
  uint32_t *best_len = malloc(sizeof *best_len * (n + 1));
  uint32_t *best_off = malloc(sizeof *best_off * (n + 1));
  uint64_t *cost = malloc(sizeof *cost * (n + 1));
  uint32_t *choice = malloc(sizeof *choice * (n + 1));
  size_t written = 0;
  if (!head || !prev || !best_len || !best_off || !cost || !choice)
    goto out;

  /* The longest match at each position (its offset: any shorter length is its prefix). */
  for (size_t h = 0; h < (1u << HASH_BITS); h++)
    head[h] = -1;
  for (size_t i = 0; i < n; i++) {
    best_len[i] = 0;
    best_off[i] = 0;
    if (i + MIN_MATCH > n)
      continue;
    uint32_t h = hash4(in + i);
    size_t limit = (i + MATCH_END_GAP <= n) ? n - LAST_LITERALS - i : 0;
    unsigned depth = 0;
    for (int32_t j = head[h]; j >= 0 && i - (size_t)j <= MAX_OFFSET && depth < CHAIN_DEPTH;
         j = prev[j], depth++) {
      size_t len = 0;
      while (len < limit && in[(size_t)j + len] == in[i + len])
        len++;
      if (len >= MIN_MATCH && len > best_len[i]) {
        best_len[i] = (uint32_t)len;
        best_off[i] = (uint32_t)(i - (size_t)j);
        if (len == limit)
          break;
      }
    }
    prev[i] = head[h];
    head[h] = (int32_t)i;
  }

  /* The cheapest way from each position to the end: a literal costs its byte, a match its
   * token and offset (3) and its length bytes; the literal runs' length bytes (one per 255)
   * are left out of the sums, which changes little. */
  cost[n] = 0;
  for (size_t i = n; i-- > 0;) {
    cost[i] = cost[i + 1] + 1u;
    choice[i] = 0;
    size_t longest = best_len[i];
    for (size_t len = MIN_MATCH; len <= longest; len++) {
      if (len > SHORT_LENGTHS && len < longest)
        len = longest;
      uint64_t c = 3u + extra_bytes(len - MIN_MATCH) + cost[i + len];
      if (c < cost[i]) {
        cost[i] = c;
        choice[i] = (uint32_t)len;
      }
    }
  }

  uint8_t *op = out;
  size_t lit_start = 0;
  for (size_t i = 0; i < n;) {
    if (choice[i] == 0) {
      i++;
      continue;
    }
    op = put_sequence(op, in + lit_start, i - lit_start, best_off[i], choice[i]);
    i += choice[i];
    lit_start = i;
  }
  op = put_sequence(op, in + lit_start, n - lit_start, 0, 0);
  written = (size_t)(op - out);

out:
  free(head);
  free(prev);
  free(best_len);
  free(best_off);
  free(cost);
  free(choice);
  return written;
}
