/* The board's status in words (see ctl_status.h). */
#include "ctl_status.h"

#include <string.h>

bool ctl_status_read(const json_t *status, struct ctl_status *out, char *why,
                     size_t why_size)
{
  json_error_t error;
  json_t *application, *transfer;
  const char *mode;
  int up;

  memset(out, 0, sizeof(*out));
  if (json_unpack_ex((json_t *)status, &error, 0,
                     "{s:{s:s,s:s,s:s,s:o},s:{s:s,s:s,s:s,s:s,s:b},s:o}",
                     "board", "mode", &mode, "reason", &out->reason, "detail", &out->detail,
                     "application", &application,
                     "network", "ip", &out->ip, "netmask", &out->netmask,
                     "gateway", &out->gateway, "address_source", &out->address_source,
                     "up", &up,
                     "transfer", &transfer) != 0) {
    snprintf(why, why_size, "%s", error.text);
    return false;
  }
  out->up = up != 0;
  if (strcmp(mode, "application") == 0)
    out->application = true;
  else if (strcmp(mode, "iap") != 0) {
    snprintf(why, why_size, "board.mode is \"%.32s\", neither \"iap\" nor \"application\"",
             mode);
    return false;
  }
  if (out->application &&
      json_unpack_ex(application, &error, 0, "{s:s,s:s}", "msp", &out->msp, "pc",
                     &out->pc) != 0) {
    snprintf(why, why_size, "board.application: %s", error.text);
    return false;
  }
  if (json_is_null(transfer))
    return true;
  json_t *expected, *percent;
  if (json_unpack_ex(transfer, &error, 0, "{s:s,s:s,s:I,s:o,s:o,s:I}",
                     "protocol", &out->protocol, "peer", &out->peer, "bytes", &out->bytes,
                     "expected_bytes", &expected, "percent", &percent,
                     "rate_bytes_per_s", &out->rate_bytes_per_s) != 0) {
    snprintf(why, why_size, "transfer: %s", error.text);
    return false;
  }
  out->transfer = true;
  out->expected_bytes = json_is_integer(expected) ? json_integer_value(expected) : -1;
  out->percent = json_is_integer(percent) ? json_integer_value(percent) : -1;
  return true;
}

void ctl_put_text(FILE *out, const char *text)
{
  const unsigned char *p = (const unsigned char *)text;
  for (; *p != '\0'; p++) {
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
      fputc('?', out);
      p++;
    } else if (p[0] < 0x20 || p[0] == 0x7F) {
      fputc('?', out);
    } else {
      fputc(p[0], out);
    }
  }
}

static void put_line(FILE *out, const char *label, const char *text)
{
  fprintf(out, "%-11s", label);
  ctl_put_text(out, text);
  fputc('\n', out);
}

void ctl_status_print(FILE *out, const struct ctl_status *s)
{
  if (s->application) {
    fprintf(out, "%-11s", "mode:");
    fputs("application, MSP=", out);
    ctl_put_text(out, s->msp);
    fputs(" PC=", out);
    ctl_put_text(out, s->pc);
    fputc('\n', out);
  } else {
    put_line(out, "mode:", "iap");
  }
  put_line(out, "reason:", s->reason);
  put_line(out, "detail:", s->detail);

  fprintf(out, "%-11s", "address:");
  ctl_put_text(out, s->ip);
  fputs(" netmask ", out);
  ctl_put_text(out, s->netmask);
  fputs(" gateway ", out);
  ctl_put_text(out, s->gateway);
  fputs(" (", out);
  ctl_put_text(out, s->address_source);
  /* lwIP's interface is down while the application runs: the address answers nothing. */
  fputs(s->up ? ")\n" : "), interface down\n", out);

  fprintf(out, "%-11s", "transfer:");
  if (!s->transfer) {
    fputs("none\n", out);
    return;
  }
  ctl_put_text(out, s->protocol);
  fputs(" from ", out);
  ctl_put_text(out, s->peer);
  if (s->expected_bytes >= 0)
    fprintf(out, ", %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " bytes", s->bytes,
            s->expected_bytes);
  else
    fprintf(out, ", %" JSON_INTEGER_FORMAT " bytes", s->bytes);
  if (s->percent >= 0)
    fprintf(out, " (%" JSON_INTEGER_FORMAT "%%)", s->percent);
  fprintf(out, ", %" JSON_INTEGER_FORMAT " bytes/s\n", s->rate_bytes_per_s);
}

void ctl_status_describe(FILE *out, const struct ctl_status *s)
{
  if (s->application) {
    fputs("runs the application: MSP=", out);
    ctl_put_text(out, s->msp);
    fputs(" PC=", out);
    ctl_put_text(out, s->pc);
  } else {
    fputs("is in IAP mode: ", out);
    ctl_put_text(out, s->detail);
  }
}
