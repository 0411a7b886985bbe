/*
 * lwIP's LWIP_RAND() (lwipopts.h): local ports (each TFTP transfer's TID), TCP initial
 * sequence numbers, DHCP transaction ids. It has no context pointer, so this module keeps the
 * one board whose random op (board.h, the one RNG seam) it draws from; bootloader_init()
 * installs it. Session tokens draw from the board directly (http_auth.c) and fail without a
 * random source; these numbers never fail: without one they mix the clock, so ports still
 * differ between transfers.
 */
#ifndef IAPD_IAP_RANDOM_H
#define IAPD_IAP_RANDOM_H

#include <stdint.h>

#include "board.h"

/* The board LWIP_RAND() draws from; NULL: the clock only. */
void iap_random_use(const struct board *board);

uint32_t iap_random32(void);

#endif
