/* The Ethernet MAC + DMA and the DP83848 PHY as an lwIP netif (see eth_stm32.h). */
#include "eth_stm32.h"

#include <string.h>

#include "board_opts.h"
#include "clock.h"
#include "gpio.h"
#include "iap_opts.h"
#include "log.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "regs.h"

/* A buffer holds a whole frame: 1518 bytes with CRC, 1522 with a VLAN tag; a multiple of 4. */
#define ETH_BUF_SIZE 1524u
#define ETH_AF 11u
#define MDIO_POLLS 100000u           /* an MDIO frame takes 64 MDC periods: 40 us at 1.6 MHz */
#define DMA_RESET_TIMEOUT_MS 100u
#define PHY_RESET_TIMEOUT_MS 500u    /* DP83848: reset completes within a few ms */

/* Normal descriptors (RM0090 33.6, TDES0-3 and RDES0-3): status, control, buffer, next. The
 * DMA reads and writes them in SRAM (not CCM RAM, which has no DMA path). */
struct eth_desc {
  volatile uint32_t status;
  volatile uint32_t control;
  volatile uint32_t buf;
  volatile uint32_t next;
};

static struct eth_desc rx_desc[ETH_RX_DESC_COUNT] __attribute__((aligned(4)));
static struct eth_desc tx_desc[ETH_TX_DESC_COUNT] __attribute__((aligned(4)));
static uint8_t rx_buf[ETH_RX_DESC_COUNT][ETH_BUF_SIZE] __attribute__((aligned(4)));
static uint8_t tx_buf[ETH_TX_DESC_COUNT][ETH_BUF_SIZE] __attribute__((aligned(4)));
static unsigned rx_next, tx_next;

/* Pins (STM324xG-EVAL, UM1461; AF11 = ETH, datasheet Table 9). */
struct pin {
  char port;
  uint8_t pin;
};
static const struct pin pins_common[] = {
  { 'A', 1 },   /* MII_RX_CLK / RMII_REF_CLK */
  { 'A', 2 },   /* MDIO */
  { 'A', 7 },   /* MII_RX_DV / RMII_CRS_DV */
  { 'C', 1 },   /* MDC */
  { 'C', 4 },   /* RXD0 */
  { 'C', 5 },   /* RXD1 */
  { 'G', 11 },  /* TX_EN */
  { 'G', 13 },  /* TXD0 */
  { 'G', 14 },  /* TXD1 */
};
#if defined MII_MODE
static const struct pin pins_mii[] = {
  { 'B', 8 },   /* MII_TXD3 */
  { 'C', 2 },   /* MII_TXD2 */
  { 'C', 3 },   /* MII_TX_CLK */
  { 'H', 2 },   /* MII_CRS */
  { 'H', 3 },   /* MII_COL */
  { 'H', 6 },   /* MII_RXD2 */
  { 'H', 7 },   /* MII_RXD3 */
  { 'I', 10 },  /* MII_RX_ER */
};
#endif

static void pins_alternate(const struct pin *p, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    gpio_alternate(p[i].port, p[i].pin, ETH_AF);
}

/* Errata sheet of the STM32F40x/41x (Ethernet): a write to a MAC or DMA register may be lost
 * when the same register is written again within four TX_CLK/RX_CLK periods. Write, wait
 * longer than that at 10 Mbit/s (4 x 400 ns), write again. */
static void eth_write(volatile uint32_t *reg, uint32_t value)
{
  *reg = value;
  clock_delay_us(2);
  *reg = value;
}

/* ---- MDIO (RM0090 33.4.1, station management interface) --------------------------------- */

static bool mdio_wait(void)
{
  for (uint32_t i = 0; i < MDIO_POLLS; i++)
    if (!(ETH_MACMIIAR & ETH_MACMIIAR_MB))
      return true;
  return false;
}

static bool phy_read(uint32_t reg, uint16_t *value)
{
  if (!mdio_wait())
    return false;
  ETH_MACMIIAR = PHY_ADDRESS << ETH_MACMIIAR_PA_Pos | reg << ETH_MACMIIAR_MR_Pos
                 | ETH_MACMIIAR_CR_DIV102 | ETH_MACMIIAR_MB;
  if (!mdio_wait())
    return false;
  *value = (uint16_t)ETH_MACMIIDR;
  return true;
}

static bool phy_write(uint32_t reg, uint16_t value)
{
  if (!mdio_wait())
    return false;
  ETH_MACMIIDR = value;
  ETH_MACMIIAR = PHY_ADDRESS << ETH_MACMIIAR_PA_Pos | reg << ETH_MACMIIAR_MR_Pos
                 | ETH_MACMIIAR_CR_DIV102 | ETH_MACMIIAR_MW | ETH_MACMIIAR_MB;
  return mdio_wait();
}

/* ---- link ------------------------------------------------------------------------------- */

static void link_poll(void *arg)
{
  struct netif *netif = arg;
  uint16_t bmsr, physts;

  /* BMSR's link bit latches low: the second read is the state now. */
  if (phy_read(PHY_BMSR, &bmsr) && phy_read(PHY_BMSR, &bmsr)) {
    bool up = bmsr & PHY_BMSR_LINK;
    if (up && !netif_is_link_up(netif) && phy_read(PHY_PHYSTS, &physts)) {
      bool mbit10 = physts & PHY_PHYSTS_SPEED10, full = physts & PHY_PHYSTS_FULL;
      uint32_t cr = ETH_MACCR & ~(ETH_MACCR_FES | ETH_MACCR_DM);
      eth_write(&ETH_MACCR, cr | (mbit10 ? 0 : ETH_MACCR_FES) | (full ? ETH_MACCR_DM : 0));
      log_info("net", "link up, %s Mbit/s %s duplex", mbit10 ? "10" : "100",
               full ? "full" : "half");
      netif_set_link_up(netif);
    } else if (!up && netif_is_link_up(netif)) {
      log_warn("net", "link down");
      netif_set_link_down(netif);
    }
  }
  sys_timeout(PHY_POLL_MS, link_poll, netif);
}

/* ---- MAC and DMA ------------------------------------------------------------------------ */

static void rings_init(void)
{
  for (unsigned i = 0; i < ETH_RX_DESC_COUNT; i++) {
    rx_desc[i].control = ETH_RDES1_RCH | ETH_BUF_SIZE;
    rx_desc[i].buf = (uint32_t)(uintptr_t)rx_buf[i];
    rx_desc[i].next = (uint32_t)(uintptr_t)&rx_desc[(i + 1) % ETH_RX_DESC_COUNT];
    rx_desc[i].status = ETH_RDES0_OWN;
  }
  for (unsigned i = 0; i < ETH_TX_DESC_COUNT; i++) {
    tx_desc[i].status = ETH_TDES0_TCH;
    tx_desc[i].control = 0;
    tx_desc[i].buf = (uint32_t)(uintptr_t)tx_buf[i];
    tx_desc[i].next = (uint32_t)(uintptr_t)&tx_desc[(i + 1) % ETH_TX_DESC_COUNT];
  }
  rx_next = tx_next = 0;
  ETH_DMARDLAR = (uint32_t)(uintptr_t)rx_desc;
  ETH_DMATDLAR = (uint32_t)(uintptr_t)tx_desc;
}

static bool wait_ms(volatile uint32_t *reg, uint32_t mask, uint32_t timeout_ms)
{
  uint32_t start = sys_now();
  while (*reg & mask)
    if (sys_now() - start > timeout_ms)
      return false;
  return true;
}

static bool mac_init(const uint8_t *mac)
{
  /* RM0090 9.2.2: MII/RMII is chosen in SYSCFG_PMC while the MAC is in reset, before its
   * clocks are enabled. */
  RCC_APB2ENR |= RCC_APB2_SYSCFG;
  RCC_AHB1ENR |= RCC_AHB1_GPIOA | RCC_AHB1_GPIOB | RCC_AHB1_GPIOC | RCC_AHB1_GPIOG
                 | RCC_AHB1_GPIOH | RCC_AHB1_GPIOI;
  RCC_AHB1RSTR |= RCC_AHB1RSTR_ETHMACRST;
#if defined RMII_MODE
  SYSCFG_PMC |= SYSCFG_PMC_MII_RMII_SEL;
#else
  SYSCFG_PMC &= ~SYSCFG_PMC_MII_RMII_SEL;
#endif
  RCC_AHB1ENR |= RCC_AHB1ENR_ETHMACEN | RCC_AHB1ENR_ETHMACTXEN | RCC_AHB1ENR_ETHMACRXEN;
  RCC_AHB1RSTR &= ~RCC_AHB1RSTR_ETHMACRST;

  pins_alternate(pins_common, sizeof(pins_common) / sizeof(pins_common[0]));
#if defined MII_MODE
  pins_alternate(pins_mii, sizeof(pins_mii) / sizeof(pins_mii[0]));
#endif
#if defined PHY_CLOCK_MCO
  /* MCO1 = HSE (25 MHz) on PA8, AF0, to the PHY through JP5 2-3. */
  RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_MCO1_Msk | RCC_CFGR_MCO1PRE_Msk)) | RCC_CFGR_MCO1_HSE
             | RCC_CFGR_MCO1PRE_DIV1;
  gpio_alternate('A', 8, 0);
#endif

  /* The DMA's reset needs the PHY's clocks (RX_CLK, TX_CLK / REF_CLK): if they are missing
   * it never ends (RM0090 33.8.4, ETH_DMABMR bit SR). */
  ETH_DMABMR |= ETH_DMABMR_SR;
  if (!wait_ms(&ETH_DMABMR, ETH_DMABMR_SR, DMA_RESET_TIMEOUT_MS)) {
#if defined RMII_MODE
    log_err("net", "no clock from the PHY: RMII needs the 50 MHz oscillator on U3, JP5 open");
#elif defined PHY_CLOCK_MCO
    log_err("net", "no clock from the PHY: with PHY_CLOCK_MCO, JP5 must be on 2-3 (MCO)");
#else
    log_err("net", "no clock from the PHY: in MII mode JP5 on 1-2 (crystal), or build "
            "with -DPHY_CLOCK_MCO and JP5 on 2-3");
#endif
    return false;
  }

  ETH_MACMIIAR = ETH_MACMIIAR_CR_DIV102;  /* MDC = 168 MHz / 102 = 1.65 MHz <= 2.5 MHz */
  /* 100 Mbit/s full duplex until the PHY says otherwise; IFG 96 bits, CRC stripped by us. */
  eth_write(&ETH_MACCR, ETH_MACCR_FES | ETH_MACCR_DM);
  /* Perfect filter on our address, broadcast accepted, multicast dropped: ARP, IPv4 and
   * DHCP need nothing else. */
  eth_write(&ETH_MACFFR, 0);
  eth_write(&ETH_MACFCR, 0);
  /* The first byte on the wire is the low byte of MACA0LR (RM0090 33.8.1, MACA0LR). */
  ETH_MACA0HR = ETH_MACA0HR_MO | (uint32_t)mac[5] << 8 | mac[4];
  ETH_MACA0LR = (uint32_t)mac[3] << 24 | (uint32_t)mac[2] << 16 | (uint32_t)mac[1] << 8 | mac[0];
  /* The MMC counters' interrupts are unmasked at reset; the ETH IRQ is never enabled, but
   * masked they cannot hold the interrupt line either. */
  ETH_MMCRIMR = ETH_MMC_ALL_INTERRUPTS_MASKED;
  ETH_MMCTIMR = ETH_MMC_ALL_INTERRUPTS_MASKED;

  rings_init();
  ETH_DMABMR = ETH_DMABMR_AAB | ETH_DMABMR_FB | 32u << ETH_DMABMR_PBL_Pos;
  ETH_DMAIER = 0;
  /* Store and forward both ways: a frame goes out or comes in only when whole. */
  eth_write(&ETH_DMAOMR, ETH_DMAOMR_RSF | ETH_DMAOMR_TSF | ETH_DMAOMR_OSF);

  /* Start: MAC transmitter, TX FIFO flushed, receiver, then both DMA directions. */
  eth_write(&ETH_MACCR, ETH_MACCR | ETH_MACCR_TE);
  eth_write(&ETH_DMAOMR, ETH_DMAOMR | ETH_DMAOMR_FTF);
  (void)wait_ms(&ETH_DMAOMR, ETH_DMAOMR_FTF, 10);
  eth_write(&ETH_MACCR, ETH_MACCR | ETH_MACCR_RE);
  eth_write(&ETH_DMAOMR, ETH_DMAOMR | ETH_DMAOMR_ST | ETH_DMAOMR_SR);
  return true;
}

static bool phy_init(void)
{
  uint16_t id = 0, bmcr = 0, rbr = 0;
  uint32_t start;

  if (!phy_read(PHY_IDR1, &id) || id != PHY_IDR1_DP83848) {
    log_err("net", "no DP83848 at MDIO address %u (PHYIDR1 0x%04x, expected 0x%04x)",
            (unsigned)PHY_ADDRESS, id, PHY_IDR1_DP83848);
    return false;
  }
  if (!phy_write(PHY_BMCR, PHY_BMCR_RESET))
    return false;
  start = sys_now();
  do {
    if (!phy_read(PHY_BMCR, &bmcr) || sys_now() - start > PHY_RESET_TIMEOUT_MS) {
      log_err("net", "the PHY did not come out of reset");
      return false;
    }
  } while (bmcr & PHY_BMCR_RESET);
  /* The PHY's interface is strapped by the board's jumpers (JP6, JP8); say so if they do
   * not match the build. */
  if (phy_read(PHY_RBR, &rbr)) {
    bool phy_rmii = rbr & PHY_RBR_RMII_MODE;
#if defined RMII_MODE
    if (!phy_rmii)
      log_warn("net", "built for RMII but the PHY is strapped for MII: set JP6 1-2, close JP8");
#else
    if (phy_rmii)
      log_warn("net", "built for MII but the PHY is strapped for RMII: set JP6 2-3, open JP8");
#endif
  }
  return phy_write(PHY_BMCR, PHY_BMCR_ANENABLE | PHY_BMCR_ANRESTART);
}

/* ---- lwIP ------------------------------------------------------------------------------- */

static err_t link_output(struct netif *netif, struct pbuf *p)
{
  struct eth_desc *d = &tx_desc[tx_next];
  (void)netif;

  if (d->status & ETH_TDES0_OWN)
    return ERR_IF;  /* ring full: lwIP's callers see a send error, TCP retransmits */
  if (p->tot_len > ETH_BUF_SIZE)
    return ERR_BUF;
  pbuf_copy_partial(p, tx_buf[tx_next], p->tot_len, 0);
  d->control = p->tot_len;
  /* Fields first, then ownership: the DMA may take the descriptor as soon as OWN is set. */
  __asm volatile ("dmb" ::: "memory");
  d->status = ETH_TDES0_OWN | ETH_TDES0_FS | ETH_TDES0_LS | ETH_TDES0_TCH;
  __asm volatile ("dsb" ::: "memory");
  tx_next = (tx_next + 1u) % ETH_TX_DESC_COUNT;
  /* Suspended on an empty ring (TBUS) or after an underflow: clear, then poll demand. */
  if (ETH_DMASR & (ETH_DMASR_TBUS | ETH_DMASR_TUS))
    ETH_DMASR = ETH_DMASR_TBUS | ETH_DMASR_TUS | ETH_DMASR_AIS | ETH_DMASR_NIS;
  ETH_DMATPDR = 0;
  return ERR_OK;
}

void eth_stm32_poll(struct netif *netif)
{
  for (unsigned n = 0; n < ETH_RX_DESC_COUNT; n++) {
    struct eth_desc *d = &rx_desc[rx_next];
    uint32_t status = d->status;
    if (status & ETH_RDES0_OWN)
      break;
    __asm volatile ("dmb" ::: "memory");
    /* A whole, error-free frame in one buffer; anything else (spanning buffers: longer than
     * any frame we accept) is dropped. The length includes the 4-byte CRC. */
    struct pbuf *p = NULL;
    if ((status & (ETH_RDES0_FS | ETH_RDES0_LS | ETH_RDES0_ES)) == (ETH_RDES0_FS | ETH_RDES0_LS)) {
      uint32_t len = (status & ETH_RDES0_FL_Msk) >> ETH_RDES0_FL_Pos;
      if (len > 4u && len <= ETH_BUF_SIZE) {
        p = pbuf_alloc(PBUF_RAW, (u16_t)(len - 4u), PBUF_POOL);
        if (p != NULL)
          pbuf_take(p, rx_buf[rx_next], (u16_t)(len - 4u));
      }
    }
    /* The frame is copied: its buffer goes back to the DMA before lwIP takes the frame, so
     * that while a TFTP block is programmed (milliseconds) every buffer of the ring can take
     * the next blocks of the window (board_opts.h, TFTP_MAX_WINDOWSIZE). */
    d->status = ETH_RDES0_OWN;
    rx_next = (rx_next + 1u) % ETH_RX_DESC_COUNT;
    if (p != NULL && netif->input(p, netif) != ERR_OK)
      pbuf_free(p);
  }
  /* The DMA suspends when it found no free descriptor: give it the ring back. */
  if (ETH_DMASR & ETH_DMASR_RBUS) {
    ETH_DMASR = ETH_DMASR_RBUS | ETH_DMASR_ROS | ETH_DMASR_AIS | ETH_DMASR_NIS;
    __asm volatile ("dsb" ::: "memory");
    ETH_DMARPDR = 0;
  }
}

err_t eth_stm32_netif_init(struct netif *netif)
{
  static const uint8_t mac[6] = { MAC_ADDR0, MAC_ADDR1, MAC_ADDR2, MAC_ADDR3, MAC_ADDR4,
                                  MAC_ADDR5 };
  memcpy(netif->hwaddr, mac, sizeof(mac));
  netif->hwaddr_len = ETH_HWADDR_LEN;
  netif->mtu = 1500;
  netif->name[0] = 'e';
  netif->name[1] = 't';
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  netif->output = etharp_output;
  netif->linkoutput = link_output;
  if (!mac_init(mac) || !phy_init())
    return ERR_IF;
  sys_timeout(PHY_POLL_MS, link_poll, netif);
  return ERR_OK;
}
