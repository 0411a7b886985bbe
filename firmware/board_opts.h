/*
 * Compile-time options of the STM324xG-EVAL firmware, with guarded defaults, named like
 * AN3376's main.h (section 5.2). The IAP options (USE_IAP_TFTP, USE_IAP_HTTP, USE_DHCP,
 * IAP_LOG, MAC/IP, USER_FLASH_FIRST_PAGE_ADDRESS) are in src/iap_opts.h and src/http_opts.h.
 *
 * PHY interface, as the board's jumpers are set (AN3376 Table 2):
 *   -DMII_MODE (default)  JP6 2-3, JP8 open; the PHY's 25 MHz from the crystal (JP5 1-2) or,
 *                         with -DPHY_CLOCK_MCO, from the MCU's MCO1 on PA8 (JP5 2-3);
 *   -DRMII_MODE           JP6 1-2, JP8 closed, JP5 open, a 50 MHz oscillator on U3.
 */
#ifndef IAPD_BOARD_OPTS_H
#define IAPD_BOARD_OPTS_H

#if defined MII_MODE && defined RMII_MODE
#error "define MII_MODE or RMII_MODE, not both (AN3376 5.2)"
#endif
#if !defined MII_MODE && !defined RMII_MODE
#define MII_MODE
#endif
#if defined RMII_MODE && defined PHY_CLOCK_MCO
#error "PHY_CLOCK_MCO is for MII_MODE: in RMII mode the 50 MHz comes from the oscillator on U3"
#endif

/* The DP83848's address on the MDIO bus, strapped on the STM324xG-EVAL. */
#if !defined PHY_ADDRESS
#define PHY_ADDRESS 0x01u
#endif

/* The log UART: USART3 on PC10 (TX) / PC11 (RX), the eval board's RS232 connector CN16,
 * 115200 8N1. */
#if !defined LOG_BAUD
#define LOG_BAUD 115200u
#endif
/* Debug lines (log_debug) are dropped unless this is 1. */
#if !defined LOG_DEBUG
#define LOG_DEBUG 0
#endif

/* Ethernet DMA rings: frames are copied to and from pbufs, so a few buffers are enough. Each
 * receive buffer is 1524 bytes plus a 16-byte descriptor of SRAM. */
#if !defined ETH_RX_DESC_COUNT
#define ETH_RX_DESC_COUNT 4
#endif
#if !defined ETH_TX_DESC_COUNT
#define ETH_TX_DESC_COUNT 2
#endif

/* TFTP options (RFC 2348 blksize, RFC 7440 windowsize), what iapd's --tftp-max-blksize and
 * --tftp-max-windowsize set on the host. A block of TFTP_BLKSIZE_MAX (1468, src/tftp_opts.h)
 * fills one frame, which the receive buffers and lwIP's pool pbufs hold already. A window is
 * the frames that arrive while the first of them is programmed (some 6 ms for 1468 bytes):
 * the one being processed, copied out of its DMA buffer, and one in each of the
 * ETH_RX_DESC_COUNT buffers; a larger window would lose its tail on every round and cost a
 * timeout. One more block of window costs one more receive buffer. */
#if !defined TFTP_MAX_BLKSIZE
#define TFTP_MAX_BLKSIZE TFTP_BLKSIZE_MAX
#endif
#if !defined TFTP_MAX_WINDOWSIZE
#define TFTP_MAX_WINDOWSIZE (ETH_RX_DESC_COUNT + 1)
#endif

/* The Key button as the reset decision reads it: -1 (default) reads PG15; 0 (released) or 1
 * (held) ignores the pin. For emulators that model no GPIO (QEMU's netduinoplus2, where PG15
 * reads 0, "held"): tests/firmware/qemu_boot.sh builds with 0 to see the jump. Not for a board. */
#if !defined BOARD_KEY_FORCE
#define BOARD_KEY_FORCE (-1)
#endif

/* A fault right after the power-on line, so that tests/firmware/qemu_boot.sh sees the fault
 * handler's log line (fault.c): 1, lwIP fails an assertion; 2, a read from an address no
 * device answers (a bus fault). 0 (default): none. Not for a board. */
#if !defined BOARD_FAULT_AT_BOOT
#define BOARD_FAULT_AT_BOOT 0
#endif

/* In IAP mode the log reports the stack's high-water mark (painted at reset, startup.h)
 * when it first enters IAP mode and whenever it has grown, checked this often. */
#if !defined STACK_REPORT_MS
#define STACK_REPORT_MS 1000u
#endif

/* PHY link state is read this often. */
#if !defined PHY_POLL_MS
#define PHY_POLL_MS 500u
#endif

/* Clocks (RM0090 6.2, 7.3.2): 25 MHz HSE, VCO input 1 MHz (M=25), VCO 336 MHz (N=336),
 * SYSCLK 168 MHz (P=2), 48 MHz for the RNG (Q=7). AHB 168, APB1 42, APB2 84 MHz. */
#define HSE_HZ      25000000u
#define HSI_HZ      16000000u
#define PLL_M       25u
#define PLL_N       336u
#define PLL_P       2u
#define PLL_Q       7u
#define SYSCLK_HZ   (HSE_HZ / PLL_M * PLL_N / PLL_P)
#define APB1_HZ     (SYSCLK_HZ / 4u)
/* Flash wait states at 168 MHz and 2.7-3.6 V (RM0090 Table 10): 5. */
#define FLASH_WAIT_STATES 5u

#endif
