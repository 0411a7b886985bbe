/*
 * What sits at 0x08000000: the bootloader itself is kept in flash packed (tools/fw_pack.c)
 * and runs from SRAM. At reset this stub unpacks it to 0x20000000, where it is linked
 * (firmware/stm32f407-boot.ld), and starts it as the core would start an image: the stack
 * pointer from its word 0, its reset handler from word 1. The program sets VTOR to its own
 * vector table (startup.c).
 *
 * Why: the bootloader with every feature and the signature check does not fit below the
 * user flash at 0x08010000 as plain code, and code packs to about 70% (firmware/README.md).
 * The cost is the unpacking at each reset, done at 168 MHz: the PLL from the HSI, and back.
 *
 * The block is LZMA (lzma_block.c), or LZ4 (lz4_block.c) in a build with PACKER=lz4; either
 * way the program's calls were made absolute before packing, and are made relative again
 * here (thumb_calls.c).
 *
 * The stub runs before anything is set up, so it uses no C library, no .data and no .bss: a
 * register or two, its stack (the LZMA decoder's 9838-byte probability array is there), the
 * packed image and the SRAM it writes. A packed image that does not unpack to the length it
 * says is a build that fw-pack would have refused; should flash ever hold one, the stub
 * stops in unpack_failed(), where a debugger shows it.
 */
#include <stdint.h>

#include "clock_pll.h"
#include "thumb_calls.h"

#if STUB_PACKER_LZ4
#include "lz4_block.h"
#else
#include "lzma_block.h"
#endif

/* From firmware/stm32f407-stub.ld: the packed image (fw-pack's header, then the block),
 * where the program runs, and how much SRAM it may take. */
extern const uint8_t packed_program[];
extern uint8_t _program_base[], _program_space[], _stub_estack[];

void stub_reset(void);
void unpack_failed(void);

typedef void (*vector_t)(void);

/* Entries only for what the core can take while the stub runs: reset, NMI and HardFault.
 * MemManage, BusFault and UsageFault are disabled at reset (they escalate to HardFault), the
 * stub raises no SVC or PendSV, enables no interrupt, and SysTick is off: the other twelve
 * entries (48 bytes) would never be read. The program has its own full table (startup.c). */
__attribute__((section(".isr_vector"), used))
static const vector_t stub_vectors[4] = {
  (vector_t)(uintptr_t)_stub_estack, stub_reset, unpack_failed, unpack_failed,
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
  if (length > (uint32_t)(uintptr_t)_program_space)
    unpack_failed();
  /* At 168 MHz the unpacking takes a tenth of the time it takes on the HSI; the clocks go
   * back to those of a reset before the program starts, as the program expects. */
  (void)clock_pll_start(false);
#if STUB_PACKER_LZ4
  long got = lz4_block_unpack(packed_program + 8, packed, _program_base, length);
#else
  uint16_t probs[LZMA_BLOCK_PROBS_MAX];
  long got = lzma_block_unpack(packed_program + 8, packed, _program_base, length, probs,
                               LZMA_BLOCK_PROBS_MAX);
#endif
  if (got < 0 || (uint32_t)got != length)
    unpack_failed();
  thumb_calls_relative(_program_base, length);
  clock_reset_state();

  const uint32_t *vectors = (const uint32_t *)(uintptr_t)_program_base;
  __asm volatile (
    "dsb\n\t"
    "isb\n\t"
    "msr msp, %0\n\t"
    "bx %1\n\t"
    : : "r"(vectors[0]), "r"(vectors[1]) : "memory");
  __builtin_unreachable();
}
