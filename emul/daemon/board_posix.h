/* The emulated STM324xG-EVAL's buttons and its "jump": state the daemon sets and reads. */
#ifndef IAPD_BOARD_POSIX_H
#define IAPD_BOARD_POSIX_H

#include <stdbool.h>
#include <stdint.h>

/* Key button state as of the next reset. */
void board_posix_set_key(bool held);

/* Called by board_jump_to_application(); the daemon installs it. */
void board_posix_on_jump(void (*fn)(uint32_t msp, uint32_t pc, void *ctx), void *ctx);

#endif
