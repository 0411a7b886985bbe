/*
 * The embedded flash interface registers of the STM32F405/407 (RM0090 section 3.9), by the
 * reference manual's names: addresses and bits only, no accesses, so that the driver
 * (flash_stm32.c) and the host's register model (emul/flash_regs_model.c) read the same facts.
 */
#ifndef IAPD_FLASH_REGS_H
#define IAPD_FLASH_REGS_H

/* RM0090 Table 1 (memory map): the flash interface sits at 0x40023C00 on AHB1. */
#define FLASH_R_BASE      0x40023C00u
#define FLASH_ACR         (FLASH_R_BASE + 0x00u)  /* access control */
#define FLASH_KEYR        (FLASH_R_BASE + 0x04u)  /* key (unlocks FLASH_CR) */
#define FLASH_OPTKEYR     (FLASH_R_BASE + 0x08u)  /* option key */
#define FLASH_SR          (FLASH_R_BASE + 0x0Cu)  /* status */
#define FLASH_CR          (FLASH_R_BASE + 0x10u)  /* control */
#define FLASH_OPTCR       (FLASH_R_BASE + 0x14u)  /* option control */
#define FLASH_R_END       (FLASH_R_BASE + 0x18u)

/* FLASH_ACR (RM0090 3.9.1). LATENCY is in wait states (CPU cycles - 1). */
#define FLASH_ACR_LATENCY_Pos 0
#define FLASH_ACR_LATENCY_Msk (0x7u << FLASH_ACR_LATENCY_Pos)
#define FLASH_ACR_PRFTEN  (1u << 8)   /* prefetch enable */
#define FLASH_ACR_ICEN    (1u << 9)   /* instruction cache enable */
#define FLASH_ACR_DCEN    (1u << 10)  /* data cache enable */
#define FLASH_ACR_ICRST   (1u << 11)  /* instruction cache reset, only while ICEN = 0 */
#define FLASH_ACR_DCRST   (1u << 12)  /* data cache reset, only while DCEN = 0 */

/* FLASH_KEYR (RM0090 3.5.1): KEY1 then KEY2 clears FLASH_CR.LOCK; any other write, or the
 * keys in another order, is a bus error and keeps FLASH_CR locked until the next reset. */
#define FLASH_KEY1        0x45670123u
#define FLASH_KEY2        0xCDEF89ABu

/* FLASH_SR (RM0090 3.9.4). The flags are rc_w1: writing 1 clears them. */
#define FLASH_SR_EOP      (1u << 0)   /* end of operation, only with CR.EOPIE */
#define FLASH_SR_OPERR    (1u << 1)   /* operation error, only with CR.ERRIE */
#define FLASH_SR_WRPERR   (1u << 4)   /* write protection error */
#define FLASH_SR_PGAERR   (1u << 5)   /* programming alignment error */
#define FLASH_SR_PGPERR   (1u << 6)   /* programming parallelism error (access size != PSIZE) */
#define FLASH_SR_PGSERR   (1u << 7)   /* programming sequence error */
#define FLASH_SR_BSY      (1u << 16)  /* an operation is in progress */
#define FLASH_SR_ERRORS   (FLASH_SR_OPERR | FLASH_SR_WRPERR | FLASH_SR_PGAERR \
                           | FLASH_SR_PGPERR | FLASH_SR_PGSERR)

/* FLASH_CR (RM0090 3.9.5). Reset value 0x80000000: locked. */
#define FLASH_CR_PG       (1u << 0)   /* programming */
#define FLASH_CR_SER      (1u << 1)   /* sector erase */
#define FLASH_CR_MER      (1u << 2)   /* mass erase */
#define FLASH_CR_SNB_Pos  3           /* sector number, 4 bits on the 1 Mbyte parts */
#define FLASH_CR_SNB_Msk  (0xFu << FLASH_CR_SNB_Pos)
#define FLASH_CR_PSIZE_Pos 8          /* program size: x8, x16, x32, x64 */
#define FLASH_CR_PSIZE_Msk (0x3u << FLASH_CR_PSIZE_Pos)
#define FLASH_CR_PSIZE_X8  (0x0u << FLASH_CR_PSIZE_Pos)
#define FLASH_CR_PSIZE_X16 (0x1u << FLASH_CR_PSIZE_Pos)
#define FLASH_CR_PSIZE_X32 (0x2u << FLASH_CR_PSIZE_Pos)  /* 2.7-3.6 V, the eval board's 3.3 V */
#define FLASH_CR_PSIZE_X64 (0x3u << FLASH_CR_PSIZE_Pos)  /* needs external VPP */
#define FLASH_CR_STRT     (1u << 16)  /* start an erase */
#define FLASH_CR_EOPIE    (1u << 24)  /* end of operation interrupt enable */
#define FLASH_CR_ERRIE    (1u << 25)  /* error interrupt enable */
#define FLASH_CR_LOCK     (1u << 31)  /* set: FLASH_CR cannot be written */
#define FLASH_CR_RESET    FLASH_CR_LOCK

/* FLASH_OPTCR (RM0090 3.9.6): nWRP bit i at 16 + i, 0 = sector i write protected. */
#define FLASH_OPTCR_OPTLOCK   (1u << 0)
#define FLASH_OPTCR_nWRP_Pos  16
#define FLASH_OPTCR_nWRP_Msk  (0xFFFu << FLASH_OPTCR_nWRP_Pos)
#define FLASH_OPTCR_RDP_AA    (0xAAu << 8)  /* read protection level 0 */
#define FLASH_OPTCR_BOR_OFF   (0x3u << 2)

#endif
