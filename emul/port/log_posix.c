/* The logging seam (src/log.h) on Linux. */
#include "log_posix.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static bool use_syslog;
static int verbose;
static log_posix_hook *subscriber;
static void *subscriber_ctx;
static bool muted;

void log_posix_mute(bool on)
{
  muted = on;
}

void log_posix_subscribe(log_posix_hook *hook, void *ctx)
{
  subscriber = hook;
  subscriber_ctx = ctx;
}

void log_posix_setup(bool to_syslog, int verbosity)
{
  use_syslog = to_syslog;
  verbose = verbosity;
  if (use_syslog)
    openlog("iapd", LOG_PID, LOG_DAEMON);
}

void iap_log(enum iap_log_level level, const char *module, const char *fmt, ...)
{
  static const int syslog_priority[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
  static const char *const prefix[] = { "error: ", "warning: ", "", "" };
  char text[512];
  va_list ap;

  if (muted || (level == IAP_LOG_DEBUG && verbose < 1))
    return;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (use_syslog)
    syslog(syslog_priority[level], "%s: %s%s", module, prefix[level], text);
  else
    fprintf(stderr, "iapd: %s: %s%s\n", module, prefix[level], text);
  if (subscriber != NULL)
    subscriber(subscriber_ctx, level, module, text);
}
