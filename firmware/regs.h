/*
 * The STM32F407 and Cortex-M4 registers the bootloader touches, by their RM0090 / ARMv7-M
 * names (Debian ships no CMSIS device header; these few are written from the manuals). Only
 * target code includes this file; the flash registers are in flash_regs.h.
 */
#ifndef IAPD_REGS_H
#define IAPD_REGS_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ---- Cortex-M4 system control space (ARMv7-M ARM B3.2, B3.3, B3.4) --------------------- */
#define SYST_CSR   REG32(0xE000E010u)   /* SysTick control and status */
#define SYST_RVR   REG32(0xE000E014u)   /* reload value */
#define SYST_CVR   REG32(0xE000E018u)   /* current value */
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)    /* 1: the processor clock */
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))  /* interrupt clear-enable */
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (n))  /* interrupt clear-pending */
#define NVIC_REGS  8u                   /* 8 x 32 bits: every IRQ number the NVIC can have */
#define SCB_ICSR   REG32(0xE000ED04u)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_ICSR_PENDSVCLR (1u << 27)
#define SCB_VTOR   REG32(0xE000ED08u)
#define SCB_AIRCR  REG32(0xE000ED0Cu)
#define SCB_CFSR   REG32(0xE000ED28u)   /* configurable fault status: why MemManage/Bus/Usage */
#define SCB_HFSR   REG32(0xE000ED2Cu)   /* HardFault status: FORCED when another one escalated */
#define SCB_AIRCR_VECTKEY     (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ (1u << 2)
#define SCB_AIRCR_PRIGROUP_Msk (0x7u << 8)
#define SCB_SHCSR  REG32(0xE000ED24u)   /* fault enables and active bits */

/* ---- RCC (RM0090 section 7.3) ------------------------------------------------------------ */
#define RCC_BASE      0x40023800u
#define RCC_CR        REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR   REG32(RCC_BASE + 0x04u)
#define RCC_CFGR      REG32(RCC_BASE + 0x08u)
#define RCC_CIR       REG32(RCC_BASE + 0x0Cu)
#define RCC_AHB1RSTR  REG32(RCC_BASE + 0x10u)
#define RCC_AHB2RSTR  REG32(RCC_BASE + 0x14u)
#define RCC_APB1RSTR  REG32(RCC_BASE + 0x20u)
#define RCC_APB2RSTR  REG32(RCC_BASE + 0x24u)
#define RCC_AHB1ENR   REG32(RCC_BASE + 0x30u)
#define RCC_AHB2ENR   REG32(RCC_BASE + 0x34u)
#define RCC_APB1ENR   REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR   REG32(RCC_BASE + 0x44u)

#define RCC_CR_HSION   (1u << 0)
#define RCC_CR_HSIRDY  (1u << 1)
#define RCC_CR_HSEON   (1u << 16)
#define RCC_CR_HSERDY  (1u << 17)
#define RCC_CR_HSEBYP  (1u << 18)
#define RCC_CR_CSSON   (1u << 19)
#define RCC_CR_PLLON   (1u << 24)
#define RCC_CR_PLLRDY  (1u << 25)

#define RCC_PLLCFGR_PLLM_Pos 0
#define RCC_PLLCFGR_PLLN_Pos 6
#define RCC_PLLCFGR_PLLP_Pos 16          /* 00: /2, 01: /4, 10: /6, 11: /8 */
#define RCC_PLLCFGR_PLLSRC_HSE (1u << 22)
#define RCC_PLLCFGR_PLLQ_Pos 24
#define RCC_PLLCFGR_RESET    0x24003010u

#define RCC_CFGR_SW_Msk     (0x3u << 0)
#define RCC_CFGR_SW_HSI     (0x0u << 0)
#define RCC_CFGR_SW_PLL     (0x2u << 0)
#define RCC_CFGR_SWS_Msk    (0x3u << 2)
#define RCC_CFGR_SWS_HSI    (0x0u << 2)
#define RCC_CFGR_SWS_PLL    (0x2u << 2)
#define RCC_CFGR_HPRE_DIV1  (0x0u << 4)
#define RCC_CFGR_PPRE1_DIV4 (0x5u << 10)  /* APB1 at most 42 MHz */
#define RCC_CFGR_PPRE2_DIV2 (0x4u << 13)  /* APB2 at most 84 MHz */
#define RCC_CFGR_MCO1_Msk   (0x3u << 21)
#define RCC_CFGR_MCO1_HSE   (0x2u << 21)  /* MCO1 (PA8) outputs HSE */
#define RCC_CFGR_MCO1PRE_Msk (0x7u << 24)
#define RCC_CFGR_MCO1PRE_DIV1 (0x0u << 24)

#define RCC_AHB1_GPIOA   (1u << 0)        /* GPIOx = bit x - 'A', same in ENR and RSTR */
#define RCC_AHB1_GPIOB   (1u << 1)
#define RCC_AHB1_GPIOC   (1u << 2)
#define RCC_AHB1_GPIOG   (1u << 6)
#define RCC_AHB1_GPIOH   (1u << 7)
#define RCC_AHB1_GPIOI   (1u << 8)
#define RCC_AHB1_GPIO_ALL 0x1FFu
#define RCC_AHB1ENR_CCMDATARAMEN (1u << 20)   /* set at reset */
#define RCC_AHB1ENR_ETHMACEN     (1u << 25)
#define RCC_AHB1ENR_ETHMACTXEN   (1u << 26)
#define RCC_AHB1ENR_ETHMACRXEN   (1u << 27)
#define RCC_AHB1RSTR_ETHMACRST   (1u << 25)
#define RCC_AHB2_RNG     (1u << 6)        /* RNGEN / RNGRST */
#define RCC_APB1_USART3  (1u << 18)       /* USART3EN / USART3RST */
#define RCC_APB2_SYSCFG  (1u << 14)       /* SYSCFGEN / SYSCFGRST */

/* ---- GPIO (RM0090 section 8.4) ----------------------------------------------------------- */
#define GPIO_BASE(port)  (0x40020000u + 0x400u * (uint32_t)((port) - 'A'))
#define GPIO_MODER(p)    REG32(GPIO_BASE(p) + 0x00u)
#define GPIO_OTYPER(p)   REG32(GPIO_BASE(p) + 0x04u)
#define GPIO_OSPEEDR(p)  REG32(GPIO_BASE(p) + 0x08u)
#define GPIO_PUPDR(p)    REG32(GPIO_BASE(p) + 0x0Cu)
#define GPIO_IDR(p)      REG32(GPIO_BASE(p) + 0x10u)
#define GPIO_ODR(p)      REG32(GPIO_BASE(p) + 0x14u)
#define GPIO_BSRR(p)     REG32(GPIO_BASE(p) + 0x18u)
#define GPIO_AFR(p, n)   REG32(GPIO_BASE(p) + 0x20u + 4u * (n))  /* AFRL (n=0), AFRH (n=1) */
#define GPIO_MODE_INPUT  0u
#define GPIO_MODE_OUTPUT 1u
#define GPIO_MODE_AF     2u
#define GPIO_SPEED_HIGH  3u               /* "very high speed" (100 MHz) */
#define GPIO_PULL_UP     1u

/* ---- SYSCFG (RM0090 section 9.2) --------------------------------------------------------- */
#define SYSCFG_PMC   REG32(0x40013800u + 0x04u)
#define SYSCFG_PMC_MII_RMII_SEL (1u << 23)   /* 1: RMII; set while the MAC is in reset */

/* ---- USART3 (RM0090 section 30.6) --------------------------------------------------------- */
#define USART3_BASE  0x40004800u
#define USART_SR(b)  REG32((b) + 0x00u)
#define USART_DR(b)  REG32((b) + 0x04u)
#define USART_BRR(b) REG32((b) + 0x08u)
#define USART_CR1(b) REG32((b) + 0x0Cu)
#define USART_SR_TC  (1u << 6)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_UE (1u << 13)

/* ---- RNG (RM0090 section 24.4) ----------------------------------------------------------- */
#define RNG_CR  REG32(0x50060800u + 0x00u)
#define RNG_SR  REG32(0x50060800u + 0x04u)
#define RNG_DR  REG32(0x50060800u + 0x08u)
#define RNG_CR_RNGEN (1u << 2)
#define RNG_SR_DRDY  (1u << 0)
#define RNG_SR_CECS  (1u << 1)            /* clock error: the RNG clock is too slow */
#define RNG_SR_SECS  (1u << 2)            /* seed error: the noise source failed */
#define RNG_SR_CEIS  (1u << 5)
#define RNG_SR_SEIS  (1u << 6)

/* ---- Ethernet MAC, MMC and DMA (RM0090 section 33.8) ------------------------------------- */
#define ETH_BASE        0x40028000u
#define ETH_MACCR       REG32(ETH_BASE + 0x0000u)
#define ETH_MACFFR      REG32(ETH_BASE + 0x0004u)
#define ETH_MACMIIAR    REG32(ETH_BASE + 0x0010u)
#define ETH_MACMIIDR    REG32(ETH_BASE + 0x0014u)
#define ETH_MACFCR      REG32(ETH_BASE + 0x0018u)
#define ETH_MACA0HR     REG32(ETH_BASE + 0x0040u)
#define ETH_MACA0LR     REG32(ETH_BASE + 0x0044u)
#define ETH_MMCRIMR     REG32(ETH_BASE + 0x010Cu)
#define ETH_MMCTIMR     REG32(ETH_BASE + 0x0110u)
#define ETH_DMABMR      REG32(ETH_BASE + 0x1000u)
#define ETH_DMATPDR     REG32(ETH_BASE + 0x1004u)
#define ETH_DMARPDR     REG32(ETH_BASE + 0x1008u)
#define ETH_DMARDLAR    REG32(ETH_BASE + 0x100Cu)
#define ETH_DMATDLAR    REG32(ETH_BASE + 0x1010u)
#define ETH_DMASR       REG32(ETH_BASE + 0x1014u)
#define ETH_DMAOMR      REG32(ETH_BASE + 0x1018u)
#define ETH_DMAIER      REG32(ETH_BASE + 0x101Cu)

#define ETH_MACCR_RE    (1u << 2)         /* receiver enable */
#define ETH_MACCR_TE    (1u << 3)         /* transmitter enable */
#define ETH_MACCR_DM    (1u << 11)        /* duplex mode: full */
#define ETH_MACCR_FES   (1u << 14)        /* fast Ethernet speed: 100 Mbit/s */
#define ETH_MACCR_RD    (1u << 9)         /* retry disable */
#define ETH_MACMIIAR_MB (1u << 0)         /* MII busy */
#define ETH_MACMIIAR_MW (1u << 1)         /* MII write */
#define ETH_MACMIIAR_CR_DIV102 (0x4u << 2)  /* MDC = HCLK / 102, for HCLK 150-168 MHz */
#define ETH_MACMIIAR_MR_Pos 6
#define ETH_MACMIIAR_PA_Pos 11
#define ETH_MACA0HR_MO  (1u << 31)        /* always 1 */
#define ETH_MMC_ALL_INTERRUPTS_MASKED 0x0003FFFFu  /* RM0090: MMCRIMR/MMCTIMR bits in use */

#define ETH_DMABMR_SR   (1u << 0)         /* software reset, cleared by hardware when done */
#define ETH_DMABMR_PBL_Pos 8              /* programmable burst length */
#define ETH_DMABMR_FB   (1u << 16)        /* fixed burst */
#define ETH_DMABMR_AAB  (1u << 25)        /* address-aligned beats */
#define ETH_DMASR_TBUS  (1u << 2)         /* transmit buffer unavailable */
#define ETH_DMASR_TUS   (1u << 5)         /* transmit underflow */
#define ETH_DMASR_ROS   (1u << 4)         /* receive overflow */
#define ETH_DMASR_RBUS  (1u << 7)         /* receive buffer unavailable */
#define ETH_DMASR_AIS   (1u << 15)
#define ETH_DMASR_NIS   (1u << 16)
#define ETH_DMASR_FBES  (1u << 13)        /* fatal bus error */
#define ETH_DMAOMR_SR   (1u << 1)         /* start/stop receive */
#define ETH_DMAOMR_OSF  (1u << 2)         /* operate on second frame */
#define ETH_DMAOMR_ST   (1u << 13)        /* start/stop transmission */
#define ETH_DMAOMR_FTF  (1u << 20)        /* flush transmit FIFO */
#define ETH_DMAOMR_TSF  (1u << 21)        /* transmit store and forward */
#define ETH_DMAOMR_RSF  (1u << 25)        /* receive store and forward */

/* Normal DMA descriptors, 4 words (RM0090 33.6.7 and 33.6.8), chained through word 3. */
#define ETH_TDES0_OWN   (1u << 31)        /* owned by the DMA */
#define ETH_TDES0_LS    (1u << 29)        /* last segment */
#define ETH_TDES0_FS    (1u << 28)        /* first segment */
#define ETH_TDES0_TCH   (1u << 20)        /* second address chained */
#define ETH_TDES0_ES    (1u << 15)        /* error summary */
#define ETH_RDES0_OWN   (1u << 31)
#define ETH_RDES0_FL_Pos 16               /* frame length, CRC included */
#define ETH_RDES0_FL_Msk (0x3FFFu << 16)
#define ETH_RDES0_ES    (1u << 15)
#define ETH_RDES0_FS    (1u << 9)         /* first descriptor of a frame */
#define ETH_RDES0_LS    (1u << 8)         /* last descriptor of a frame */
#define ETH_RDES1_RCH   (1u << 14)        /* second address chained */

/* ---- DP83848 PHY registers (DP83848 datasheet, section 7) --------------------------------- */
#define PHY_BMCR    0x00u
#define PHY_BMSR    0x01u
#define PHY_IDR1    0x02u
#define PHY_IDR2    0x03u
#define PHY_PHYSTS  0x10u
#define PHY_RBR     0x17u                 /* RMII and bypass register */
#define PHY_BMCR_RESET    (1u << 15)
#define PHY_BMCR_ANENABLE (1u << 12)
#define PHY_BMCR_ANRESTART (1u << 9)
#define PHY_BMSR_LINK     (1u << 2)       /* latched low: read twice for the current state */
#define PHY_BMSR_ANDONE   (1u << 5)
#define PHY_PHYSTS_LINK   (1u << 0)
#define PHY_PHYSTS_SPEED10 (1u << 1)      /* 1: 10 Mbit/s */
#define PHY_PHYSTS_FULL   (1u << 2)       /* 1: full duplex */
#define PHY_RBR_RMII_MODE (1u << 5)       /* strapped: the PHY runs RMII */
#define PHY_IDR1_DP83848  0x2000u         /* OUI bits 3-18 of National/TI */

#endif
