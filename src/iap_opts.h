/*
 * Compile-time options of the IAP code, with guarded defaults. Names follow AN3376's main.h,
 * where a firmware engineer looks for them; override with -D or in the target's build.
 */
#ifndef IAPD_IAP_OPTS_H
#define IAPD_IAP_OPTS_H

/* Start of the user (application) area: sector 4, after the 64 KiB of bootloader sectors. */
#if !defined USER_FLASH_FIRST_PAGE_ADDRESS
#define USER_FLASH_FIRST_PAGE_ADDRESS 0x08010000u
#endif

/* End of the user area (exclusive): the end of the 1 MiB main flash. */
#if !defined USER_FLASH_END_ADDRESS
#define USER_FLASH_END_ADDRESS 0x08100000u
#endif

/* What the bootloader starts (iapd: --boot-verify): IAP_VERIFY_VECTORS (AN3376's check),
 * IAP_VERIFY_INTEGRITY (commit record and SHA-256) or IAP_VERIFY_SIGNATURE (and the
 * signature by the built-in key: firmware.mk SIGNING_KEY=FILE). */
#if !defined IAP_BOOT_VERIFY
#define IAP_BOOT_VERIFY IAP_VERIFY_INTEGRITY
#endif

/* ECDSA P-256 verification compiled in (mbed TLS's bignum and curve code, ~12 KiB of
 * firmware); 0 leaves it out, and no signature verifies. The firmware sets it for
 * IAP_VERIFY_SIGNATURE builds only; iapd always has it. */
#if !defined IAP_WITH_SIGNATURE
#define IAP_WITH_SIGNATURE 1
#endif

/* The commit record compiled in: the writer's SHA-256 pass and record, the slots' inspection
 * at reset. 0 leaves them out (SHA-256 and the record code with them): the board then has
 * AN3376's check only, IAP_VERIFY_VECTORS, and writes no records; an integrity or signature
 * bootloader flashed later finds none and stays in IAP mode until an upload. The firmware
 * sets it to 0 for IAP_VERIFY_VECTORS builds (the size report's AN3376 rows); iapd always has
 * it, and writes records under every policy. Used as a constant in plain `if`s. */
#if !defined IAP_WITH_INTEGRITY
#define IAP_WITH_INTEGRITY 1
#endif

/* The slot layout (iapd: --slots): IAP_SLOTS_SINGLE (AN3376), IAP_SLOTS_DUAL or
 * IAP_SLOTS_SWAP. */
#if !defined IAP_SLOTS
#define IAP_SLOTS IAP_SLOTS_SINGLE
#endif

/* The dual layout's code compiled in (the staging slot, the install at reset); 0 leaves it
 * out, and the layout is single whatever the configuration says. The firmware sets it for
 * IAP_SLOTS_DUAL and IAP_SLOTS_SWAP builds only; iapd always has it. Used as a constant in plain `if`s, so the
 * compiler drops the code it guards, strings included. */
#if !defined IAP_WITH_DUAL_SLOTS
#define IAP_WITH_DUAL_SLOTS 1
#endif

/* 1: the bootloader's configuration is these compile-time options (the firmware, where it is
 * built in): IAP_SLOTS is the only two-slot layout the code handles (iap_layout_mode()), and
 * the servers and DHCP are on exactly when compiled in (bootloader.c), so the compiler drops
 * what a build cannot do, texts included. 0: iapd, configured from its command line. */
#if !defined IAP_CONFIG_FIXED
#define IAP_CONFIG_FIXED 0
#endif

#if !defined USE_IAP_TFTP
#define USE_IAP_TFTP 1
#endif

#if !defined USE_DHCP
#define USE_DHCP 0
#endif

/* USE_DHCP: without a lease after this long, the static address (AN3376 5.1). The seed gives
 * DHCP four tries (MAX_DHCP_TRIES); lwIP's client sends its fourth DISCOVER about 10 s after
 * the first. iapd: --dhcp-timeout. */
#if !defined DHCP_FALLBACK_MS
#define DHCP_FALLBACK_MS 10000u
#endif

/* Log text in place of AN3376's USE_LCD: 0 drops every message from the image. */
#if !defined IAP_LOG
#define IAP_LOG 1
#endif

/* Debug lines (log_debug) compiled in: iapd shows them with -v. The firmware prints them only
 * when built with LOG_DEBUG=1, so firmware.mk sets this to 0 otherwise and the text leaves
 * the image. */
#if !defined IAP_WITH_LOG_DEBUG
#define IAP_WITH_LOG_DEBUG 1
#endif

/* CRC-32 of the images (src/crc32.c): 0, a 64-byte nibble table (the firmware: a 1 KiB or
 * larger table costs flash the bootloader sectors do not have); 1, slice-by-8, 8 KiB of tables
 * in RAM built at first use, a quarter of the instructions per byte (iapd: mk/src.am). */
#if !defined IAP_CRC32_SLICE_BY_8
#define IAP_CRC32_SLICE_BY_8 0
#endif

/* AN3376 5.1: default MAC 00:00:00:00:00:02 and static address 192.168.0.10/24. */
#if !defined MAC_ADDR0
#define MAC_ADDR0 0x00
#define MAC_ADDR1 0x00
#define MAC_ADDR2 0x00
#define MAC_ADDR3 0x00
#define MAC_ADDR4 0x00
#define MAC_ADDR5 0x02
#endif
#if !defined IP_ADDR0
#define IP_ADDR0 192
#define IP_ADDR1 168
#define IP_ADDR2 0
#define IP_ADDR3 10
#endif
#if !defined NETMASK_ADDR0
#define NETMASK_ADDR0 255
#define NETMASK_ADDR1 255
#define NETMASK_ADDR2 255
#define NETMASK_ADDR3 0
#endif
#if !defined GW_ADDR0
#define GW_ADDR0 192
#define GW_ADDR1 168
#define GW_ADDR2 0
#define GW_ADDR3 1
#endif

#endif
