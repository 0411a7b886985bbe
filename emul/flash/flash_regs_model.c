/* The STM32F407 flash interface, register by register, and the mmio seam over it (see
 * flash_regs_model.h). */
#include "flash_regs_model.h"

#include <stdio.h>
#include <stdlib.h>

#include "flash_regs.h"
#include "flash_stm32.h"
#include "mmio.h"

/* The bus the driver stores to: its mmio accesses carry no context (on the chip they are
 * plain volatile accesses), so they reach the one attached model. */
static struct flash_regs_model *current;

/* An access the model has no register for: a bug in the code under test, stop loudly. */
static void bad_access(const char *what, uint32_t addr)
{
  fprintf(stderr, "flash_regs_model: %s at 0x%08x: not a FLASH register or flash address\n",
          what, addr);
  abort();
}

static struct flash_regs_model *model(void)
{
  if (current == NULL) {
    fprintf(stderr, "flash_regs_model: mmio access before flash_regs_model_attach()\n");
    abort();
  }
  return current;
}

static int in_flash(uint32_t addr)
{
  return addr >= STM32_FLASH_BASE && addr < STM32_FLASH_END;
}

static int is_reg(uint32_t addr)
{
  return addr >= FLASH_R_BASE && addr < FLASH_R_END && addr % 4 == 0;
}

static unsigned psize(const struct flash_regs_model *r)
{
  if (r->stuck_psize >= 0)
    return (unsigned)r->stuck_psize & 3u;
  return (r->cr & FLASH_CR_PSIZE_Msk) >> FLASH_CR_PSIZE_Pos;
}

/* An error detected when an operation is asked for: it does not start. */
static void raise_error(struct flash_regs_model *r, uint32_t flags)
{
  r->sr |= flags;
  if (r->cr & FLASH_CR_ERRIE)
    r->sr |= FLASH_SR_OPERR;
}

static uint32_t result_flags(enum flash_result fr)
{
  switch (fr) {
  case FLASH_OK:            return 0;
  case FLASH_ERR_PROTECTED: return FLASH_SR_WRPERR;
  case FLASH_ERR_ALIGN:     return FLASH_SR_PGAERR;
  default:                  return FLASH_SR_PGSERR;
  }
}

/* The operation in progress reaches its end: the cells change now. */
static void complete(struct flash_regs_model *r)
{
  enum flash_result fr = FLASH_OK;

  switch (r->op) {
  case OP_NONE:
    return;
  case OP_PROGRAM:
    fr = flash_model_program(r->flash, r->op_addr, r->op_value, r->op_width);
    r->programs++;
    break;
  case OP_SECTOR_ERASE:
    fr = flash_model_erase_sector(r->flash, r->op_sector);
    r->erases++;
    break;
  case OP_MASS_ERASE:
    for (unsigned s = 0; s < STM32_FLASH_SECTOR_COUNT && fr == FLASH_OK; s++)
      fr = flash_model_erase_sector(r->flash, s);
    r->erases++;
    break;
  }
  r->op = OP_NONE;
  r->busy_left = 0;
  r->sr &= ~FLASH_SR_BSY;
  if (fr != FLASH_OK)
    raise_error(r, result_flags(fr));
  else if (r->cr & FLASH_CR_EOPIE)
    r->sr |= FLASH_SR_EOP;
}

/* The chip stalls the bus until the operation ends; the model ends it and counts. */
static void stall_if_busy(struct flash_regs_model *r)
{
  if (r->sr & FLASH_SR_BSY) {
    r->stalls++;
    complete(r);
  }
}

static void start(struct flash_regs_model *r)
{
  r->last_psize = psize(r);  /* the parallelism the operation runs at: its duration */
  if (r->inject_sr) {
    raise_error(r, r->inject_sr);
    r->inject_sr = 0;
    r->op = OP_NONE;
    return;
  }
  r->sr |= FLASH_SR_BSY;
  r->busy_left = r->busy_reads;
  if (r->busy_left == 0)
    complete(r);
}

void flash_regs_model_reset(struct flash_regs_model *r)
{
  complete(r);
  r->acr = 0;
  r->sr = 0;
  r->cr = FLASH_CR_RESET;
  r->keyr = KEYR_WAIT_KEY1;
}

void flash_regs_model_attach(struct flash_regs_model *r, struct flash_model *flash)
{
  r->flash = flash;
  r->op = OP_NONE;
  r->busy_reads = r->busy_reads ? r->busy_reads : 2;
  flash_regs_model_reset(r);
  current = r;
}

static uint32_t read_optcr(const struct flash_regs_model *r)
{
  uint32_t nwrp = ~r->flash->protected_sectors & ((1u << STM32_FLASH_SECTOR_COUNT) - 1u);
  return FLASH_OPTCR_OPTLOCK | FLASH_OPTCR_BOR_OFF | FLASH_OPTCR_RDP_AA
         | nwrp << FLASH_OPTCR_nWRP_Pos;
}

static uint32_t read_reg(struct flash_regs_model *r, uint32_t addr)
{
  switch (addr) {
  case FLASH_ACR:
    return r->acr;
  case FLASH_SR:
    if ((r->sr & FLASH_SR_BSY) && --r->busy_left == 0)
      complete(r);
    return r->sr;
  case FLASH_CR:
    return r->cr;
  case FLASH_OPTCR:
    return read_optcr(r);
  default:
    return 0;  /* KEYR and OPTKEYR are write-only */
  }
}

static void write_keyr(struct flash_regs_model *r, uint32_t value)
{
  if (r->keyr == KEYR_WAIT_KEY1 && value == FLASH_KEY1 && (r->cr & FLASH_CR_LOCK)) {
    r->keyr = KEYR_WAIT_KEY2;
  } else if (r->keyr == KEYR_WAIT_KEY2 && value == FLASH_KEY2) {
    r->cr &= ~FLASH_CR_LOCK;
    r->keyr = KEYR_WAIT_KEY1;
  } else {
    /* RM0090 3.5.1: a wrong sequence is a bus error and locks FLASH_CR until reset. */
    r->bus_errors++;
    r->keyr = KEYR_LOCKED_UNTIL_RESET;
    r->cr |= FLASH_CR_LOCK;
  }
}

static void write_cr(struct flash_regs_model *r, uint32_t value)
{
  stall_if_busy(r);
  if (r->cr & FLASH_CR_LOCK) {
    r->locked_writes++;
    return;
  }
  /* LOCK can be set by software, not cleared (only the KEYR sequence clears it); STRT is
   * a trigger, cleared by hardware when BSY clears. */
  r->cr = (value & ~FLASH_CR_STRT) | (r->cr & FLASH_CR_LOCK);
  if (!(value & FLASH_CR_STRT))
    return;
  if ((value & FLASH_CR_PG) || !(value & (FLASH_CR_SER | FLASH_CR_MER))) {
    raise_error(r, FLASH_SR_PGSERR);
    return;
  }
  if (value & FLASH_CR_MER) {
    if (r->flash->protected_sectors) {  /* a mass erase refuses if any sector is protected */
      raise_error(r, FLASH_SR_WRPERR);
      return;
    }
    r->op = OP_MASS_ERASE;
  } else {
    unsigned snb = (value & FLASH_CR_SNB_Msk) >> FLASH_CR_SNB_Pos;
    if (snb >= STM32_FLASH_SECTOR_COUNT) {
      raise_error(r, FLASH_SR_PGSERR);
      return;
    }
    if ((r->flash->protected_sectors >> snb) & 1u) {
      raise_error(r, FLASH_SR_WRPERR);
      return;
    }
    r->op = OP_SECTOR_ERASE;
    r->op_sector = snb;
  }
  start(r);
}

static void write_acr(struct flash_regs_model *r, uint32_t value)
{
  if (((value & FLASH_ACR_DCRST) && (r->acr & FLASH_ACR_DCEN))
      || ((value & FLASH_ACR_ICRST) && (r->acr & FLASH_ACR_ICEN))) {
    r->cache_misuse++;
    value &= ~(FLASH_ACR_DCRST | FLASH_ACR_ICRST);
  }
  r->acr = value & (FLASH_ACR_LATENCY_Msk | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN
                    | FLASH_ACR_DCEN | FLASH_ACR_ICRST | FLASH_ACR_DCRST);
}

static void write_reg(struct flash_regs_model *r, uint32_t addr, uint32_t value)
{
  switch (addr) {
  case FLASH_ACR:
    write_acr(r, value);
    break;
  case FLASH_KEYR:
    write_keyr(r, value);
    break;
  case FLASH_SR:
    r->sr &= ~(value & (FLASH_SR_EOP | FLASH_SR_ERRORS));
    break;
  case FLASH_CR:
    write_cr(r, value);
    break;
  default:
    break;  /* OPTKEYR, OPTCR: the option bytes are not modelled beyond nWRP reads */
  }
}

/* A store of `width` bytes into the flash array. */
static void store(struct flash_regs_model *r, uint32_t addr, uint32_t value, unsigned width)
{
  stall_if_busy(r);
  if (!(r->cr & FLASH_CR_PG) || (r->cr & (FLASH_CR_SER | FLASH_CR_MER))) {
    raise_error(r, FLASH_SR_PGSERR);
    return;
  }
  /* PSIZE 0-2 is x8/x16/x32; x64 takes 64-bit stores, which the seam has none of. */
  if (psize(r) > 2 || (1u << psize(r)) != width) {
    raise_error(r, FLASH_SR_PGPERR);
    return;
  }
  /* The chip flags PGAERR for data that straddles a 128-bit row; the core splits other
   * unaligned stores into narrower ones, which PSIZE then refuses. Either way an unaligned
   * store never programs: the model reports PGAERR for all of them. */
  if (addr % width != 0) {
    raise_error(r, FLASH_SR_PGAERR);
    return;
  }
  if ((r->flash->protected_sectors >> (unsigned)stm32_flash_sector_of(addr)) & 1u) {
    raise_error(r, FLASH_SR_WRPERR);
    return;
  }
  r->op = OP_PROGRAM;
  r->op_addr = addr;
  r->op_value = value;
  r->op_width = width;
  start(r);
}

/* --- the mmio seam ---------------------------------------------------------------------- */

uint32_t mmio_read32(uint32_t addr)
{
  struct flash_regs_model *r = model();
  if (is_reg(addr))
    return read_reg(r, addr);
  if (in_flash(addr) && addr % 4 == 0) {
    uint8_t b[4];
    stall_if_busy(r);
    flash_model_read(r->flash, addr, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  }
  bad_access("32-bit read", addr);
  return 0;
}

void mmio_write32(uint32_t addr, uint32_t value)
{
  struct flash_regs_model *r = model();
  if (is_reg(addr))
    write_reg(r, addr, value);
  else if (in_flash(addr) && STM32_FLASH_END - addr >= 4)
    store(r, addr, value, 4);
  else
    bad_access("32-bit write", addr);
}

void mmio_write16(uint32_t addr, uint16_t value)
{
  struct flash_regs_model *r = model();
  if (in_flash(addr) && STM32_FLASH_END - addr >= 2)
    store(r, addr, value, 2);
  else
    bad_access("16-bit write", addr);
}

void mmio_write8(uint32_t addr, uint8_t value)
{
  struct flash_regs_model *r = model();
  if (in_flash(addr))
    store(r, addr, value, 1);
  else
    bad_access("8-bit write", addr);
}

void mmio_read_bytes(uint32_t addr, void *buf, size_t len)
{
  struct flash_regs_model *r = model();
  if (len == 0)
    return;
  if (!in_flash(addr) || len > STM32_FLASH_END - addr)
    bad_access("read", addr);
  stall_if_busy(r);
  flash_model_read(r->flash, addr, buf, len);
}

const struct flash_dev *flash_regs_model_dev(struct flash_regs_model *r,
                                             enum flash_result (*sync)(void *ctx),
                                             void *sync_ctx)
{
  /* The firmware's driver, whose accesses reach this model through the mmio seam above. */
  r->backing.sync = sync;
  r->backing.ctx = sync_ctx;
  r->dev.ops = &flash_stm32_ops;
  r->dev.ctx = sync != NULL ? &r->backing : NULL;
  return &r->dev;
}
