/*
 * Checks of an application image's vector table, before anything is erased (upload) and at
 * reset (boot). Word 0 is the initial MSP, word 1 the reset vector (RM0090 / ARMv7-M B1.5.3).
 */
#ifndef IAPD_IMAGE_H
#define IAPD_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The user area an image must live in: [base, end). */
struct image_area {
  uint32_t base;
  uint32_t end;
};

/* True when sp can be an initial stack pointer on the STM32F407: word aligned, and inside
 * SRAM (0x20000000, 0x20020000] or CCM RAM (0x10000000, 0x10010000], the top included because
 * the stack is full-descending: the first push writes just below the initial value. */
bool image_sp_valid(uint32_t sp);

/* Checks the first two vector table words of an image that is to sit at area->base.
 * Returns true when they can start an application; otherwise false with a sentence for the
 * user in msg (e.g. "image linked for 0x08000000, expected 0x08010000"). */
bool image_check_vectors(const struct image_area *area, uint32_t sp, uint32_t reset,
                         char *msg, size_t msg_size);

/* Checks, once the whole image is known, that its reset vector points inside it: a vector
 * table that points past the image belongs to an image linked for another address. */
bool image_check_extent(const struct image_area *area, uint32_t reset, uint32_t image_size,
                        char *msg, size_t msg_size);

/* Reads a little-endian 32-bit word (the Cortex-M byte order) from p. */
uint32_t image_le32(const uint8_t *p);

/* Writes v at p as a little-endian 32-bit word. */
void image_put_le32(uint8_t *p, uint32_t v);

#endif
