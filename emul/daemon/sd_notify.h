/*
 * systemd's readiness protocol without libsystemd: one datagram "READY=1\nSTATUS=..." to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract name starting with '@').
 * Under a unit of Type=notify iapd does not fork: systemd knows it by its PID.
 */
#ifndef IAPD_SD_NOTIFY_H
#define IAPD_SD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

/* True when $NOTIFY_SOCKET is set: started by systemd as a notify service. */
bool sd_notify_wanted(void);

/* Sends state (newline-separated assignments) to $NOTIFY_SOCKET. Returns 1 when sent, 0
 * when there is no NOTIFY_SOCKET, -1 with a message in err when sending failed. */
int sd_notify_send(const char *state, char *err, size_t err_size);

#endif
