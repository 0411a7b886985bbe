/*
 * What sits at 0x08000000: the bootloader itself is kept in flash packed (tools/fw_pack.c)
 * and runs from SRAM. At reset this stub unpacks it to 0x20000000, where it is linked
 * (firmware/stm32f407-boot.ld), and starts it as the core would start an image: the stack
 * pointer from its word 0, its reset handler from word 1. The program sets VTOR to its own
 * vector table (startup.c).
 *
 * Why: the bootloader with every feature and the signature check does not fit below the
 * user flash at 0x08010000 as plain code, and code packs to about 85% (firmware/README.md).
 * The cost is the unpacking at each reset, on the 16 MHz HSI the core starts on.
 *
 * The stub runs before anything is set up, so it uses no C library, no .data and no .bss: a
 * register or two, its stack, the packed image and the SRAM it writes. A packed image that
 * does not unpack to the length it says is a build that fw-pack would have refused; should
 * flash ever hold one, the stub stops in unpack_failed(), where a debugger shows it.
 */
#include <stdint.h>

#include "lz4_block.h"

/* From firmware/stm32f407-stub.ld: the packed image (fw-pack's header, then the block),
 * where the program runs, and how much SRAM it may take. */
extern const uint8_t packed_program[];
extern uint8_t _program_base[], _program_space[], _stub_estack[];

void stub_reset(void);
void unpack_failed(void);

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
static const vector_t stub_vectors[16] = {
  [0] = (vector_t)(uintptr_t)_stub_estack,
  [1] = stub_reset,
  [2] = unpack_failed, [3] = unpack_failed, [4] = unpack_failed, [5] = unpack_failed,
  [6] = unpack_failed, [11] = unpack_failed, [12] = unpack_failed, [14] = unpack_failed,
  [15] = unpack_failed,
};

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void unpack_failed(void)
{
  for (;;)
    ;
}

void stub_reset(void)
{
  uint32_t length = le32(packed_program);
  uint32_t packed = le32(packed_program + 4);
  long got = lz4_block_unpack(packed_program + 8, packed, _program_base,
                              (size_t)(uintptr_t)_program_space);
  if (got < 0 || (uint32_t)got != length)
    unpack_failed();

  const uint32_t *vectors = (const uint32_t *)(uintptr_t)_program_base;
  __asm volatile (
    "dsb\n\t"
    "isb\n\t"
    "msr msp, %0\n\t"
    "bx %1\n\t"
    : : "r"(vectors[0]), "r"(vectors[1]) : "memory");
  __builtin_unreachable();
}
