/*
 * The emulated STM324xG-EVAL board and its main loop: flash file, TAP netif, lwIP (NO_SYS),
 * reset semantics (Key / valid application / jump) and signals. Portable IAP code does the
 * work; this file wires it to Linux.
 */
#ifndef IAPD_IAPD_H
#define IAPD_IAPD_H

#include "options.h"

/* Runs the board until SIGTERM/SIGINT (or the jump, with --exit-on-jump). Returns the process
 * exit status: 0 normal, 1 runtime error (message logged). */
int iapd_run(const struct iapd_options *opt);

#endif
