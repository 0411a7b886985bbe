/* Thumb-2 BL fields rewritten for packing (see thumb_calls.h). */
#include "thumb_calls.h"

/* sign: +1 turns distances into targets, -1 the reverse. The field counts halfwords from
 * the instruction after the BL (its address + 4). */
static void rewrite(uint8_t *code, size_t len, int sign)
{
  size_t i = 0;
  while (i + 4 <= len) {
    if ((code[i + 1] & 0xF8u) != 0xF0u || (code[i + 3] & 0xF8u) != 0xF8u) {
      i += 2;
      continue;
    }
    uint32_t field = (uint32_t)(code[i + 1] & 7u) << 19 | (uint32_t)code[i] << 11 |
                     (uint32_t)(code[i + 3] & 7u) << 8 | code[i + 2];
    uint32_t here = (uint32_t)(i + 4) >> 1;
    field = (sign > 0 ? field + here : field - here) & 0x3FFFFFu;
    code[i + 1] = (uint8_t)(0xF0u | (field >> 19));
    code[i] = (uint8_t)(field >> 11);
    code[i + 3] = (uint8_t)(0xF8u | ((field >> 8) & 7u));
    code[i + 2] = (uint8_t)field;
    i += 4;
  }
}

void thumb_calls_absolute(uint8_t *code, size_t len)
{
  rewrite(code, len, 1);
}

void thumb_calls_relative(uint8_t *code, size_t len)
{
  rewrite(code, len, -1);
}
