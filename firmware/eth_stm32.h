/*
 * The STM32F407 Ethernet MAC with its DMA, and the DP83848 PHY on the STM324xG-EVAL, as an
 * lwIP netif (RM0090 section 33; DP83848 datasheet). What it promises:
 *  - MII or RMII as board_opts.h says (AN3376 MII_MODE/RMII_MODE), the PHY's 25 MHz from
 *    MCO1 with PHY_CLOCK_MCO; AF11 on the eval board's pins;
 *  - chained DMA descriptor rings in SRAM (ETH_RX_DESC_COUNT, ETH_TX_DESC_COUNT), frames
 *    copied to and from pbufs, so lwIP's memory stays lwIP's;
 *  - polled from the main loop, no interrupt; a full TX ring makes linkoutput fail with ERR_IF
 *    rather than wait;
 *  - the link followed by reading the PHY every PHY_POLL_MS: MAC speed and duplex set from
 *    what auto-negotiation found, netif link up/down to match;
 *  - a PHY that does not answer, or no clock from it (the DMA reset never ends), is reported
 *    with the jumper to check, and the netif stays down.
 */
#ifndef IAPD_ETH_STM32_H
#define IAPD_ETH_STM32_H

#include "lwip/err.h"
#include "lwip/netif.h"

/* netif_add()'s init function: MAC address MAC_ADDR0..5 (src/iap_opts.h), MTU 1500,
 * Ethernet/ARP. Returns ERR_IF when the MAC or the PHY cannot be brought up (logged). */
err_t eth_stm32_netif_init(struct netif *netif);

/* Hands every received frame to netif->input. Call from the main loop. */
void eth_stm32_poll(struct netif *netif);

#endif
