/* The control server's view of the board (control.h): its status, reset, power cut and the
 * log lines, as the board page and the JSON API show them. */
#include "emul_board.h"

#include <string.h>

#include "boot.h"
#include "clock_posix.h"
#include "log.h"
#include "log_posix.h"
#include "lwip/netif.h"
#include "net_address.h"

static void control_status(void *ctx, struct board_status *s)
{
  struct emul_board *b = ctx;
  const struct netif *n = &b->port.netif;

  s->application = b->bl.state == BOOTLOADER_APPLICATION;
  s->reason = boot_reason_str(b->bl.decision.reason);
  s->detail = b->bl.decision.detail;
  s->key_held = b->bl.key_at_reset;
  s->msp = b->bl.decision.msp;
  s->pc = b->bl.decision.pc;
  s->backend = b->port.ops->kind;
  s->interface = b->port.ifname;
  memcpy(s->mac, b->port.mac, sizeof(s->mac));
  memcpy(s->ip, &netif_ip4_addr(n)->addr, 4);        /* network order: first octet first */
  memcpy(s->netmask, &netif_ip4_netmask(n)->addr, 4);
  memcpy(s->gateway, &netif_ip4_gw(n)->addr, 4);
  s->address_source = net_address_source_str(b->bl.address.source);
  s->up = netif_is_up(n);
  s->rx_frames = b->port.rx_frames;
  s->tx_frames = b->port.tx_frames;
  s->user_flash = b->bl.cfg.area.base;

  const struct boot_decision *d = &b->bl.decision;
  const struct iap_layout *l = &b->bl.policy.layout;
  const struct image_area *areas[2] = { &l->primary, &l->staging };
  const struct iap_slot_status *st[2] = { &d->primary, &d->staging };
  s->boot_verify = iap_verify_str(b->bl.policy.verify);
  s->layout = iap_slots_str(l->mode);
  s->slot_count = l->mode == IAP_SLOTS_SINGLE ? 1 : 2;
  for (unsigned i = 0; i < s->slot_count; i++) {
    struct control_image_slot *sl = &s->slots[i];
    sl->name = i == 0 ? "primary" : "staging";
    sl->address = areas[i]->base;
    sl->end = areas[i]->end;
    sl->max_image = iap_slot_capacity(areas[i]);
    sl->content = iap_slot_content_str(st[i]->content);
    sl->detail = st[i]->detail;
    sl->record = st[i]->record_valid;
    sl->seq = st[i]->record.seq;
    sl->image_len = st[i]->record.image_len;
    sl->trailer_len = st[i]->record.trailer_len;
    iap_hex(st[i]->record.sha256, sizeof(st[i]->record.sha256), sl->sha256);
  }
  if (l->mode == IAP_SLOTS_SWAP) {
    /* The scratch sector holds no image of its own: each unit passes through it. */
    struct control_image_slot *sl = &s->slots[s->slot_count++];
    memset(sl, 0, sizeof(*sl));
    sl->name = "scratch";
    sl->address = l->scratch.base;
    sl->end = l->scratch.end;
    sl->content = "scratch";
    sl->detail = "each sector of a swap passes through it; its last 256 bytes are the "
                 "swap's journal";
  }
  s->rx_dropped_stalled = b->port.rx_dropped_stalled;
  s->busy = flash_silicon_busy(&b->silicon, clock_now_us());
  s->timing = flash_timing_str(b->opt->flash_timing);
  s->timing_scale = b->opt->flash_timing_scale;
  s->operations = b->silicon.ops;
  s->last_upgrade = b->have_last_upgrade;
  s->last_upgrade_silicon_ms = (uint32_t)(b->last_upgrade_us / 1000u);
  s->power_cuts = b->power_cuts;
  flash_file_check(&b->flash);  /* a file deleted since the last sync shows at once */
  s->flash_error = flash_file_error(&b->flash);
}

static bool control_flash_busy(void *ctx)
{
  const struct emul_board *b = ctx;
  return flash_silicon_busy(&b->silicon, clock_now_us());
}

/* POST /api/power-cut: the power fails now, with an operation in progress torn (or not done),
 * and comes back: a power-on in the same process. The code that was running is torn down
 * without a word or a frame (the board had no power to say anything). */
static void control_power_cut(void *ctx, int mode, struct power_cut_report *out)
{
  struct emul_board *b = ctx;
  static char what[FLASH_SILICON_WHAT_MAX];
  enum flash_cut_mode m = mode < 0 ? b->opt->power_cut_mode
                          : mode == 1 ? FLASH_CUT_CLEAN : FLASH_CUT_TORN;
  uint64_t now = clock_now_us();

  out->operation = flash_silicon_cut_now(&b->silicon, now, m, what, sizeof(what));
  out->operations = b->silicon.ops;  /* those begun: the ones the stall had not reached, not */
  out->mode = flash_cut_mode_str(m);
  out->what = what;
  if (out->operation)
    log_warn("board", "power cut at flash operation %u: %s (POST /api/power-cut)",
             (unsigned)out->operation, what);
  else
    log_warn("board", "power cut after flash operation %u: %s (POST /api/power-cut)",
             (unsigned)out->operations, what);
  b->power_cuts++;
  if (b->stall_active)
    clock_board_stalled(now - b->stall_start_us);
  b->stall_active = false;
  b->reset_pending = false;
  if (b->upgrade_running) {
    b->upgrade_running = false;
    b->have_last_upgrade = true;
    b->last_upgrade_us = b->upgrade_us;
  }
  if (flash_file_sync(&b->flash) != FLASH_OK)
    log_err("flash", "flash file %s could not be synced", b->opt->flash_path);
  netif_backend_power(&b->port, false);
  log_posix_mute(true);
  bootloader_shutdown(&b->bl);
  log_posix_mute(false);
  netif_backend_power(&b->port, true);
  flash_silicon_power_on(&b->silicon);
  log_info("board", "power on%s", b->opt->key ? " with Key held" : "");
  emul_board_reset(b, b->opt->key);
  out->application = b->bl.state == BOOTLOADER_APPLICATION;
}

static void control_reset(void *ctx, bool key_held)
{
  emul_board_reset(ctx, key_held);
}

static void log_to_control(void *ctx, enum iap_log_level level, const char *module,
                           const char *text)
{
  control_log(ctx, level, module, text);
}

int emul_board_start_control(struct emul_board *b)
{
  struct control_listen where;
  char err[512];
  const struct control_board view = {
    .status = control_status,
    .reset = control_reset,
    .flash_busy = control_flash_busy,
    .power_cut = control_power_cut,
    .ctx = b,
    .writer = &b->bl.writer,
    .flash = &b->flash.model,
  };

  if (!control_parse_listen(b->opt->control, &where, err, sizeof(err))) {
    log_err("control", "--control %s %s", b->opt->control, err);  /* checked by options */
    return -1;
  }
  if (!where.enabled)
    return 0;
  b->control = control_start(&where, &view, clock_now_ms(), err, sizeof(err));
  if (b->control == NULL) {
    log_err("control", "%s", err);
    return -1;
  }
  log_info("control", "board page and JSON API on http://%s/", where.text);
  if (!where.loopback)
    log_warn("control", "%s is not a loopback address: whoever reaches it can reset the "
             "board and read its flash", where.text);
  log_posix_subscribe(log_to_control, b->control);
  return 0;
}
