/* The board's flash: the device --flash-driver picks, and around it the silicon (time,
 * stalls, operation count, power cuts; flash_silicon.h) with the hooks that tie it to the
 * board's port, clock and upload accounting. */
#include "emul_board.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock_posix.h"
#include "log.h"

static enum flash_result sync_flash_file(void *ctx)
{
  return flash_file_sync(ctx);
}

static uint64_t hook_now_us(void *ctx)
{
  (void)ctx;
  return clock_now_us();
}

/* The parallelism of the operation that just ran: as the STM32 driver set FLASH_CR.PSIZE in
 * the register model, or x32 for the direct device (the eval board's 3.3 V). */
static enum flash_psize hook_psize(void *ctx)
{
  const struct emul_board *b = ctx;
  if (b->opt->flash_driver == FLASH_DRIVER_STM32)
    return (enum flash_psize)(b->flash_regs.last_psize & 3u);
  return FLASH_PSIZE_X32;
}

static void hook_on_op(void *ctx, const struct flash_silicon_op *op)
{
  struct emul_board *b = ctx;
  uint64_t now = clock_now_us();

  if (op->end_us > now) {
    /* From here on the CPU waits for the flash: no frame, no timer, and what the code sends
     * next leaves when the operation ends. */
    if (!b->stall_active) {
      b->stall_active = true;
      b->stall_start_us = op->start_us;
    }
    netif_backend_stall(&b->port);
  }
  /* An upload's operations all run while the writer is active (it is set before the first
   * erase and cleared after the last program). */
  if (b->bl.writer.active && !b->upgrade_running) {
    b->upgrade_running = true;
    b->upgrade_us = b->upgrade_stall_us = 0;
    b->upgrade_erases = b->upgrade_accesses = 0;
  }
  if (b->upgrade_running) {
    b->upgrade_us += op->silicon_us;
    b->upgrade_stall_us += op->end_us - op->start_us;
    if (op->kind == FLASH_OP_ERASE)
      b->upgrade_erases++;
    b->upgrade_accesses += op->accesses;
  }
  log_debug("flash", "operation %u: %s %u bytes at 0x%08x, %u accesses at x%u, %u us",
            (unsigned)op->number, op->kind == FLASH_OP_ERASE ? "erase" : "program",
            (unsigned)op->len, (unsigned)op->addr, (unsigned)op->accesses, 8u << op->psize,
            (unsigned)op->silicon_us);
}

/* --power-cut-at-op: the power fails as that operation begins. Nothing after it runs: the
 * flash file gets what the chip kept, and the process ends. */
static void hook_power_cut(void *ctx, uint32_t op, const char *what)
{
  struct emul_board *b = ctx;
  log_warn("board", "power cut at flash operation %u: %s", (unsigned)op, what);
  if (flash_file_sync(&b->flash) != FLASH_OK)
    log_err("flash", "flash file %s could not be synced", b->opt->flash_path);
  else
    log_info("board", "flash synced, exiting with status 3 (power cut)");
  exit(3);
}

/* The upload whose operations were summed has ended (done, refused, aborted). */
void emul_board_end_upgrade(struct emul_board *b, const char *how)
{
  char stalled[96];
  const struct iapd_options *o = b->opt;

  b->upgrade_running = false;
  b->have_last_upgrade = true;
  b->last_upgrade_us = b->upgrade_us;
  if (o->flash_timing == FLASH_TIMING_NONE)
    snprintf(stalled, sizeof(stalled), "iapd did not stall (--flash-timing none)");
  else if (o->flash_timing_scale != 1.0)
    snprintf(stalled, sizeof(stalled), "iapd stalled %.1f s (scale %g)",
             (double)b->upgrade_stall_us / 1e6, o->flash_timing_scale);
  else
    snprintf(stalled, sizeof(stalled), "iapd stalled as long");
  log_info("flash", "%s upload %s: silicon time %.1f s (%s: %u sector erases, %u program "
           "accesses); %s", b->bl.writer.protocol ? b->bl.writer.protocol : "the", how,
           (double)b->upgrade_us / 1e6,
           flash_timing_str(o->flash_timing == FLASH_TIMING_NONE ? FLASH_TIMING_TYPICAL
                                                                 : o->flash_timing),
           (unsigned)b->upgrade_erases, (unsigned)b->upgrade_accesses, stalled);
}

/* The stall has ended: the board's clock lost it (clock_posix.h), what the code sent after
 * the operation goes out, and the frames that waited in the ring reach lwIP. */
void emul_board_end_stall(struct emul_board *b, uint64_t now)
{
  b->stall_active = false;
  clock_board_stalled(b->silicon.busy_until_us - b->stall_start_us);
  flash_silicon_settle(&b->silicon, now);
  netif_backend_resume(&b->port);  /* may stall again: a frame that programs flash */
}

/* The flash device --flash-driver picks: the chip model directly, or the firmware's STM32
 * driver over a register model of the FLASH interface. Both sync to the flash file. */
static const struct flash_dev *open_driver(struct emul_board *b)
{
  if (b->opt->flash_driver == FLASH_DRIVER_STM32) {
    b->flash_regs.stuck_psize = -1;
    flash_regs_model_attach(&b->flash_regs, &b->flash.model);
    log_info("flash", "through the STM32 FLASH driver and a register model of the FLASH "
             "interface (--flash-driver stm32)");
    return flash_regs_model_dev(&b->flash_regs, sync_flash_file, &b->flash);
  }
  return flash_model_dev_init(&b->flash_direct, &b->flash.model, sync_flash_file, &b->flash);
}

/* ... and around it, the flash as silicon: time, operation count, power cuts. */
const struct flash_dev *emul_board_open_flash(struct emul_board *b)
{
  const struct iapd_options *o = b->opt;
  const struct flash_silicon_config cfg = {
    .timing = o->flash_timing,
    .scale = o->flash_timing_scale,
    .cut_at_op = o->power_cut_at_op,
    .cut_mode = o->power_cut_mode,
    .seed = o->seed,
  };
  const struct flash_silicon_hooks hooks = {
    .now_us = hook_now_us,
    .psize = hook_psize,
    .on_op = hook_on_op,
    .power_cut = hook_power_cut,
    .ctx = b,
  };
  const struct flash_dev *driver = open_driver(b);
  if (o->flash_timing != FLASH_TIMING_NONE)
    log_info("flash", "flash timing: %s (STM32F407 datasheet), stalls scaled by %g",
             flash_timing_str(o->flash_timing), o->flash_timing_scale);
  if (o->power_cut_at_op)
    log_info("flash", "the power fails when flash operation %u begins (%s, seed %llu)",
             (unsigned)o->power_cut_at_op, flash_cut_mode_str(o->power_cut_mode),
             (unsigned long long)o->seed);
  return flash_silicon_init(&b->silicon, driver, &b->flash.model, &cfg, &hooks);
}
