/* Where the emulated board's LCD lines go: stderr in the foreground, syslog otherwise. */
#ifndef IAPD_LOG_POSIX_H
#define IAPD_LOG_POSIX_H

#include <stdbool.h>

/* to_syslog: false writes "iapd: module: text" lines to stderr. verbosity: 0 info and above,
 * 1 and more adds debug lines. */
void log_posix_setup(bool to_syslog, int verbosity);

#endif
