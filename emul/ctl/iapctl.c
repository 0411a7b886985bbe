/*
 * iapctl: control one emulated board (iapd) through its control server, by the address
 * that board's --control names, where `kill -USR2 $(pidof iapd)` would reset every board on
 * the machine. Each command is one or a few HTTP requests (ctl_http.h) to the JSON API that
 * iapd(8) documents; the replies are read with jansson.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock_posix.h"
#include "control_api.h"
#include "ctl_http.h"
#include "ctl_status.h"
#include "stm32f407.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

#define REQUEST_TIMEOUT_MS 5000           /* one request, connect to last byte */
#define WAIT_DEFAULT_MS    10000
#define WAIT_MAX_MS        (86400 * 1000)
#define POLL_INTERVAL_MS   100            /* wait: GET /api/status this often */
#define JSON_REPLY_MAX     (64u * 1024u)  /* the server's own cap on its status reply */

/* Which command takes which option: a bit each. */
enum {
  TAKES_KEY = 1 << 0,
  TAKES_JSON = 1 << 1,
  TAKES_TIMEOUT = 1 << 2,
};

struct invocation {
  struct control_listen where;
  bool key, json;
  int timeout_ms;
  unsigned options_given;   /* TAKES_* bits of the options on the command line */
  const char *arg;          /* the command's argument, if it takes one */
};

struct command {
  const char *name;
  const char *arg;          /* NULL: takes no argument */
  unsigned options;
  int (*run)(const struct invocation *inv);
};

/* --- requests ------------------------------------------------------------------------------ */

static void say_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say_error(const char *fmt, ...)
{
  va_list ap;
  fputs("iapctl: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* One request whose reply must be a 2xx; anything else is said on stderr. */
static bool request(const struct invocation *inv, const char *method, const char *path,
                    const char *json, size_t max_body, struct ctl_http_reply *reply)
{
  char err[512];
  if (!ctl_http_exchange(&inv->where, method, path, json, max_body, REQUEST_TIMEOUT_MS, reply,
                         err, sizeof(err))) {
    say_error("%s", err);
    return false;
  }
  if (reply->head.status >= 200 && reply->head.status < 300)
    return true;
  /* The control server says what is wrong in {"error": "..."}. */
  json_t *body = json_loadb(reply->body, reply->body_len, 0, NULL);
  const char *error = json_string_value(json_object_get(body, "error"));
  fprintf(stderr, "iapctl: %s %s: %d ", method, path, reply->head.status);
  ctl_put_text(stderr, reply->head.reason);
  if (error != NULL) {
    fputs(": ", stderr);
    ctl_put_text(stderr, error);
  }
  fputc('\n', stderr);
  json_decref(body);
  ctl_http_reply_free(reply);
  return false;
}

/* A JSON reply parsed, or NULL with a message. */
static json_t *reply_json(const struct invocation *inv, const char *method, const char *path,
                          const struct ctl_http_reply *reply)
{
  json_error_t error;
  json_t *v = json_loadb(reply->body, reply->body_len, 0, &error);
  if (v == NULL)
    say_error("the reply of %s to %s %s is not JSON (%s, at byte %d): is this iapd's "
              "control server?", inv->where.text, method, path, error.text, error.position);
  return v;
}

/* GET /api/status, read into *s; the JSON to keep while *s is used, or NULL. */
static json_t *get_status(const struct invocation *inv, struct ctl_status *s)
{
  struct ctl_http_reply reply;
  char why[256];

  if (!request(inv, "GET", "/api/status", NULL, JSON_REPLY_MAX, &reply))
    return NULL;
  json_t *status = reply_json(inv, "GET", "/api/status", &reply);
  ctl_http_reply_free(&reply);
  if (status != NULL && !ctl_status_read(status, s, why, sizeof(why))) {
    say_error("the status of %s is not what iapctl reads (%s): is iapd older or newer "
              "than iapctl?", inv->where.text, why);
    json_decref(status);
    return NULL;
  }
  return status;
}

/* --- the commands -------------------------------------------------------------------------- */

static int run_status(const struct invocation *inv)
{
  if (inv->json) {
    struct ctl_http_reply reply;
    if (!request(inv, "GET", "/api/status", NULL, JSON_REPLY_MAX, &reply))
      return EXIT_FAILED;
    fwrite(reply.body, 1, reply.body_len, stdout);
    fputc('\n', stdout);
    ctl_http_reply_free(&reply);
    return EXIT_SUCCESS;
  }
  struct ctl_status s;
  json_t *status = get_status(inv, &s);
  if (status == NULL)
    return EXIT_FAILED;
  ctl_status_print(stdout, &s);
  json_decref(status);
  return EXIT_SUCCESS;
}

static int run_reset(const struct invocation *inv)
{
  struct ctl_http_reply reply;
  const char *mode;
  int key;

  if (!request(inv, "POST", "/api/reset", inv->key ? "{\"key\":true}" : "{\"key\":false}",
               JSON_REPLY_MAX, &reply))
    return EXIT_FAILED;
  json_t *answer = reply_json(inv, "POST", "/api/reset", &reply);
  ctl_http_reply_free(&reply);
  if (answer == NULL)
    return EXIT_FAILED;
  if (json_unpack(answer, "{s:b,s:s}", "key", &key, "mode", &mode) != 0) {
    say_error("the reply of %s to POST /api/reset has no key and mode: is this iapd's "
              "control server?", inv->where.text);
    json_decref(answer);
    return EXIT_FAILED;
  }
  printf("reset%s: the board %s\n", key ? " with the Key held" : "",
         strcmp(mode, "application") == 0 ? "runs the application" : "is in IAP mode");
  json_decref(answer);
  return EXIT_SUCCESS;
}

static int run_wait(const struct invocation *inv)
{
  bool want_application = strcmp(inv->arg, "jump") == 0;
  uint32_t start_ms = clock_now_ms();
  /* Polls take time too: the clock ends the wait, the count only bounds the loop. */
  unsigned polls_max = (unsigned)(inv->timeout_ms / POLL_INTERVAL_MS) + 2u;
  struct ctl_status s;
  json_t *status = NULL;

  for (unsigned poll = 0; poll < polls_max; poll++) {
    json_decref(status);
    status = get_status(inv, &s);
    if (status == NULL)
      return EXIT_FAILED;
    if (s.application == want_application) {
      fputs("the board ", stdout);
      ctl_status_describe(stdout, &s);
      fputc('\n', stdout);
      json_decref(status);
      return EXIT_SUCCESS;
    }
    uint32_t elapsed_ms = clock_now_ms() - start_ms;
    if (elapsed_ms >= (uint32_t)inv->timeout_ms)
      break;
    uint32_t left_ms = (uint32_t)inv->timeout_ms - elapsed_ms;
    usleep((left_ms < POLL_INTERVAL_MS ? left_ms : POLL_INTERVAL_MS) * 1000u);
  }
  fprintf(stderr, "iapctl: the board did not %s within %g s: it ",
          want_application ? "jump to the application" : "enter IAP mode",
          inv->timeout_ms / 1000.0);
  ctl_status_describe(stderr, &s);
  fputc('\n', stderr);
  json_decref(status);
  return EXIT_FAILED;
}

static int run_dump(const struct invocation *inv)
{
  struct ctl_http_reply reply;

  if (!request(inv, "GET", "/api/flash", NULL, STM32_FLASH_SIZE, &reply))
    return EXIT_FAILED;
  if (reply.body_len != STM32_FLASH_SIZE) {
    say_error("the flash of %s is %zu bytes, not the %u of an STM32F407: is iapd older or "
              "newer than iapctl?", inv->where.text, reply.body_len, STM32_FLASH_SIZE);
    ctl_http_reply_free(&reply);
    return EXIT_FAILED;
  }
  FILE *f = fopen(inv->arg, "wb");
  if (f == NULL) {
    say_error("cannot create %s: %s", inv->arg, strerror(errno));
    ctl_http_reply_free(&reply);
    return EXIT_FAILED;
  }
  int write_errno = 0;
  if (fwrite(reply.body, 1, reply.body_len, f) != reply.body_len)
    write_errno = errno != 0 ? errno : EIO;
  if (fclose(f) != 0 && write_errno == 0)
    write_errno = errno != 0 ? errno : EIO;
  ctl_http_reply_free(&reply);
  if (write_errno != 0) {
    say_error("cannot write %s: %s", inv->arg, strerror(write_errno));
    unlink(inv->arg);   /* not a file that looks like a dump and is not one */
    return EXIT_FAILED;
  }
  printf("%u bytes of flash (0x%08x to 0x%08x) written to %s\n", STM32_FLASH_SIZE,
         STM32_FLASH_BASE, STM32_FLASH_END - 1u, inv->arg);
  return EXIT_SUCCESS;
}

static const struct command commands[] = {
  { "status", NULL, TAKES_JSON, run_status },
  { "reset", NULL, TAKES_KEY, run_reset },
  { "wait", "jump|iap", TAKES_TIMEOUT, run_wait },
  { "dump", "FILE", 0, run_dump },
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

/* --- the command line ---------------------------------------------------------------------- */

static void print_help(void)
{
  fputs("Usage: iapctl [--control ADDR:PORT] COMMAND [ARGUMENT] [OPTION]...\n"
        "Control one emulated STM32F407 board (iapd) through its control server.\n"
        "\n"
        "Commands:\n"
        "  status [--json]          print the board's mode, why, its address and the\n"
        "                           upload in progress\n"
        "  reset [--key]            reset the board, with the Key button held or not\n"
        "  wait jump|iap [--timeout SECONDS]\n"
        "                           wait until the board runs its application (jump)\n"
        "                           or is in IAP mode (iap)\n"
        "  dump FILE                write the board's 1 MiB flash into FILE\n"
        "\n"
        "Options:\n"
        "      --control ADDR:PORT  the board's control server, as given to iapd\n"
        "                           --control (default: " CONTROL_DEFAULT_LISTEN ")\n"
        "      --json               status: print the JSON of GET /api/status\n"
        "  -k, --key                reset: hold the Key button (IAP mode)\n"
        "      --timeout SECONDS    wait: give up after SECONDS (default: 10)\n"
        "  -V, --version            print the iapctl and jansson versions and exit\n"
        "  -h, --help               print this help and exit\n"
        "\n"
        "Exit status: 0 done, 1 failed (no server, an error reply, wait timed out),\n"
        "2 invalid command line. See iapctl(1).\n", stdout);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
  va_list ap;
  fputs("iapctl: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see iapctl --help)\n", stderr);
  return EXIT_USAGE;
}

/* SECONDS: a whole number, or one with up to three decimals, from 0.001 to 86400. */
static bool parse_seconds(const char *text, int *ms)
{
  long v = 0;
  int decimals = -1;   /* -1: no point seen */
  const char *p = text;

  for (; *p != '\0'; p++) {
    if (*p == '.' && decimals < 0 && p != text) {
      decimals = 0;
      continue;
    }
    if (*p < '0' || *p > '9' || decimals == 3 || v > WAIT_MAX_MS)
      return false;
    v = v * 10 + (*p - '0');
    if (decimals >= 0)
      decimals++;
  }
  if (p == text || decimals == 0)
    return false;
  for (int d = decimals < 0 ? 0 : decimals; d < 3; d++)
    v *= 10;
  if (v < 1 || v > WAIT_MAX_MS)
    return false;
  *ms = (int)v;
  return true;
}

enum { OPT_CONTROL = 256, OPT_JSON, OPT_TIMEOUT };

static const struct option long_options[] = {
  { "control", required_argument, NULL, OPT_CONTROL },
  { "json", no_argument, NULL, OPT_JSON },
  { "key", no_argument, NULL, 'k' },
  { "timeout", required_argument, NULL, OPT_TIMEOUT },
  { "version", no_argument, NULL, 'V' },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* What getopt_long could not take, said about the argument as the user wrote it. */
static int getopt_refusal(int c, char **argv)
{
  const char *arg = argv[optind - 1];
  if (c == ':')
    return usage_error("%s needs a value: %s", arg,
                       optopt == OPT_CONTROL ? "--control ADDR:PORT" : "--timeout SECONDS");
  if (strncmp(arg, "--", 2) != 0)
    return usage_error("unknown option -%c", optopt);
  if (optopt != 0 && strchr(arg, '=') != NULL)
    return usage_error("%.*s takes no value", (int)(strchr(arg, '=') - arg), arg);
  return usage_error("unknown or ambiguous option %s", arg);
}

static const char *option_name(unsigned bit)
{
  return bit == TAKES_KEY ? "--key" : bit == TAKES_JSON ? "--json" : "--timeout";
}

/* Reads the command line and runs the command; the exit status. */
static int run_command_line(int argc, char **argv)
{
  struct invocation inv;
  const char *control = CONTROL_DEFAULT_LISTEN;
  char why[200];
  int c;

  memset(&inv, 0, sizeof(inv));
  inv.timeout_ms = WAIT_DEFAULT_MS;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":khV", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_CONTROL:
      control = optarg;
      break;
    case OPT_JSON:
      inv.json = true;
      inv.options_given |= TAKES_JSON;
      break;
    case 'k':
      inv.key = true;
      inv.options_given |= TAKES_KEY;
      break;
    case OPT_TIMEOUT:
      if (!parse_seconds(optarg, &inv.timeout_ms))
        return usage_error("--timeout '%s' is not a number of seconds from 0.001 to 86400",
                           optarg);
      inv.options_given |= TAKES_TIMEOUT;
      break;
    case 'V':
      printf("iapctl %s\njansson %s\n", PACKAGE_VERSION, JANSSON_VERSION);
      return EXIT_SUCCESS;
    case 'h':
      print_help();
      return EXIT_SUCCESS;
    default:
      return getopt_refusal(c, argv);
    }
  }

  if (!control_parse_listen(control, &inv.where, why, sizeof(why)))
    return usage_error("--control %s %s", control, why);
  if (!inv.where.enabled)
    return usage_error("--control none: iapctl needs the ADDR:PORT of a board's control "
                       "server");

  if (optind == argc)
    return usage_error("no command: status, reset, wait or dump");
  const char *name = argv[optind++];
  const struct command *cmd = NULL;
  for (size_t i = 0; i < COMMAND_COUNT; i++)
    if (strcmp(commands[i].name, name) == 0)
      cmd = &commands[i];
  if (cmd == NULL)
    return usage_error("unknown command '%s': status, reset, wait or dump", name);

  int nargs = argc - optind;
  if (cmd->arg == NULL && nargs > 0)
    return usage_error("%s takes no argument ('%s')", cmd->name, argv[optind]);
  if (cmd->arg != NULL && nargs != 1)
    return usage_error("%s takes one argument: %s %s", cmd->name, cmd->name, cmd->arg);
  inv.arg = cmd->arg != NULL ? argv[optind] : NULL;
  if (cmd->run == run_wait && strcmp(inv.arg, "jump") != 0 && strcmp(inv.arg, "iap") != 0)
    return usage_error("wait '%s': wait for jump (the application runs) or iap (IAP mode)",
                       inv.arg);
  unsigned stray = inv.options_given & ~cmd->options;
  if (stray != 0) {
    unsigned bit = stray & -stray;
    return usage_error("%s does not apply to %s", option_name(bit), cmd->name);
  }
  return cmd->run(&inv);
}

int main(int argc, char **argv)
{
  int status = run_command_line(argc, argv);
  /* A full disk or a closed pipe must not pass for success: stdout is what scripts read. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    say_error("cannot write the standard output: %s", strerror(errno));
    return EXIT_FAILED;
  }
  return status;
}
