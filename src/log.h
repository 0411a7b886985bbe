/*
 * Logging seam: the board's LCD lines. iapd writes them to stderr (foreground) or syslog;
 * the firmware to its UART. A module token ("tftp", "flash", "boot") starts every message.
 * IAP_LOG=0 compiles the text out of the firmware; IAP_WITH_LOG_DEBUG=0 the debug lines only.
 */
#ifndef IAPD_LOG_H
#define IAPD_LOG_H

#include "iap_opts.h"

enum iap_log_level { IAP_LOG_ERR, IAP_LOG_WARN, IAP_LOG_INFO, IAP_LOG_DEBUG };

/* Never called: `if (0)` keeps the arguments type-checked (and their variables used) but
 * evaluates none of them, and the text leaves the image. */
static inline void iap_log_discard(enum iap_log_level level, const char *module,
                                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void iap_log_discard(enum iap_log_level level, const char *module,
                                   const char *fmt, ...)
{
  (void)level;
  (void)module;
  (void)fmt;
}
#define iap_log_compiled_out(level, module, ...) \
  do { if (0) iap_log_discard(level, module, __VA_ARGS__); } while (0)

#if IAP_LOG
void iap_log(enum iap_log_level level, const char *module, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
#else
#define iap_log(level, module, ...) iap_log_compiled_out(level, module, __VA_ARGS__)
#endif

#define log_err(mod, ...)   iap_log(IAP_LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  iap_log(IAP_LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...)  iap_log(IAP_LOG_INFO, mod, __VA_ARGS__)
#if IAP_WITH_LOG_DEBUG
#define log_debug(mod, ...) iap_log(IAP_LOG_DEBUG, mod, __VA_ARGS__)
#else
#define log_debug(mod, ...) iap_log_compiled_out(IAP_LOG_DEBUG, mod, __VA_ARGS__)
#endif

#endif
