/*
 * Thumb-2 calls made easier to pack. A BL's 32-bit encoding holds the distance from the call
 * to its target, so the calls of one function from different places are different bytes.
 * Before packing, tools/fw_pack.c rewrites each BL's field as the target's offset in the
 * program (thumb_calls_absolute); calls to the same function become the same four bytes,
 * which the packer finds again. After unpacking, the stub puts the distances back
 * (thumb_calls_relative).
 *
 * A BL is found by its encoding's fixed bits: a halfword 11110xxx xxxxxxxx followed by
 * 11111xxx xxxxxxxx (J1 = J2 = 1: a call within 4 MiB, which every call of the program is).
 * The 22 bits S:imm10:imm11, in halfwords, are rewritten modulo 2^22; the fixed bits are
 * kept, so both directions find the same halfwords and each undoes the other exactly,
 * whatever the bytes are (constants that look like a BL go through the same round trip).
 * Portable C, no library call: the stub runs it, and tests/check_pack.c runs the same file.
 */
#ifndef IAPD_THUMB_CALLS_H
#define IAPD_THUMB_CALLS_H

#include <stddef.h>
#include <stdint.h>

/* Each BL in code[0..len) (len bytes from a halfword-aligned start): distance -> target. */
void thumb_calls_absolute(uint8_t *code, size_t len);

/* The reverse: target -> distance. */
void thumb_calls_relative(uint8_t *code, size_t len);

#endif
