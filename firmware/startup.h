/*
 * What the reset handler leaves for the rest: the stack between the end of .bss and the top
 * of SRAM is painted at reset with STACK_PAINT, so the deepest the stack has reached (its
 * high-water mark) is where the paint starts to be intact.
 */
#ifndef IAPD_STARTUP_H
#define IAPD_STARTUP_H

#include <stdint.h>

#define STACK_PAINT 0xA5A5A5A5u

/* Bytes of SRAM from the end of .bss to the top: what the stack may use. */
uint32_t stack_space_bytes(void);

/* Bytes of it the stack has used since reset (the first unpainted word from the top). */
uint32_t stack_used_bytes(void);

#endif
