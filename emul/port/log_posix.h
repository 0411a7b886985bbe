/* Where the emulated board's LCD lines go: stderr in the foreground, syslog otherwise. */
#ifndef IAPD_LOG_POSIX_H
#define IAPD_LOG_POSIX_H

#include <stdbool.h>

#include "log.h"

/* to_syslog: false writes "iapd: module: text" lines to stderr. verbosity: 0 info and above,
 * 1 and more adds debug lines. */
void log_posix_setup(bool to_syslog, int verbosity);

/* One subscriber sees every line that is logged (after the verbosity filter), formatted,
 * e.g. the control server's event stream. NULL removes it. */
typedef void log_posix_hook(void *ctx, enum iap_log_level level, const char *module,
                            const char *text);
void log_posix_subscribe(log_posix_hook *hook, void *ctx);

/* While on, nothing is logged: a board without power says nothing while its code is torn
 * down. */
void log_posix_mute(bool on);

#endif
