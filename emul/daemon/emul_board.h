/*
 * The emulated board as iapd's files share it: what it is made of (struct emul_board) and
 * the calls between its parts. iapd.c has the board's ops for the bootloader, signals and the
 * main loop; board_flash.c the flash device and the silicon's hooks (time, stalls, power
 * cuts); board_net.c the Ethernet port on each backend; board_control.c the control server's
 * view of the board. Nothing outside emul/daemon/ includes this.
 */
#ifndef IAPD_EMUL_BOARD_H
#define IAPD_EMUL_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "board.h"
#include "bootloader.h"
#include "control.h"
#include "flash_file.h"
#include "flash_model_dev.h"
#include "flash_regs_model.h"
#include "flash_silicon.h"
#include "netif_backend.h"
#include "options.h"
#include "pcap_capture.h"
#include "pcapif.h"
#include "poll_set.h"
#include "slirpif.h"
#include "tapif.h"

struct emul_board {
  const struct iapd_options *opt;
  struct flash_file flash;
  struct flash_model_dev flash_direct; /* --flash-driver direct: the chip model */
  struct flash_regs_model flash_regs;  /* --flash-driver stm32: the FLASH interface */
  struct flash_silicon silicon;        /* around either: time, operation count, power cuts */
  bool stall_active;                   /* a flash operation stalls the board */
  uint64_t stall_start_us;
  bool reset_pending, reset_pending_key; /* a reset signal that came during a stall */
  bool upgrade_running;                /* flash operations of an upload are being summed */
  uint64_t upgrade_us;                 /* their silicon time */
  uint32_t upgrade_erases, upgrade_accesses;
  uint64_t upgrade_stall_us;           /* how long iapd stalled for them */
  bool have_last_upgrade;
  uint64_t last_upgrade_us;
  uint32_t power_cuts;
  struct tapif tap;
  struct pcapif pcapif;
  struct slirpif slirp;        /* --user-net */
  struct netif_backend port;   /* the Ethernet port, over the TAP, pcapif or slirp */
  bool port_added;             /* netif_add() done: lwIP knows the port */
  struct pcap_capture capture; /* --pcap */
  bool capturing;
  struct control *control;     /* --control; NULL when off */
  bool key_held;               /* the Key button, read by the bootloader at reset */
  struct board board;          /* the board ops below, for src/'s bootloader */
  struct bootloader bl;
  int sigfd;
  struct poll_set polls;       /* the main loop's, rebuilt every turn */
  bool quit;
};

/* iapd.c: power-on or reset, the chip's registers to their reset values, then the bootloader
 * from its reset vector. */
void emul_board_reset(struct emul_board *b, bool key_held);

/* board_flash.c: the flash device --flash-driver picks, wrapped in the silicon model. */
const struct flash_dev *emul_board_open_flash(struct emul_board *b);
/* The stall has ended at now (us): the board's clock, the held frames, the ring. */
void emul_board_end_stall(struct emul_board *b, uint64_t now);
/* The upload whose flash operations were summed has ended: its silicon time is logged. */
void emul_board_end_upgrade(struct emul_board *b, const char *how);

/* board_net.c: the Ethernet port on the backend the options name (TAP, libpcap, slirp). */
int emul_board_setup_network(struct emul_board *b);
/* --user-net: the forwards follow the board's address (a lease, or the fallback). */
void emul_board_follow_address(struct emul_board *b);

/* board_control.c: the control server on --control's address; 0 when off or started. */
int emul_board_start_control(struct emul_board *b);

#endif
