/*
 * iapd-image: keys, signatures and facts of application images for iapd's `signature` boot
 * policy (see iapd-image(1)). The commands are in image_tool.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "image_tool.h"

static void usage(FILE *f)
{
  fputs("Usage: iapd-image COMMAND [ARGUMENT]...\n"
        "Make keys for, sign, verify and describe application images for iapd's\n"
        "boot policy 'signature' (ECDSA P-256 over SHA-256; the signature travels in a\n"
        "trailer after the raw image, which uploads and is stored like any image).\n"
        "\n"
        "Commands:\n"
        "  keygen PRIVATE PUBLIC    write a new key pair (PEM); PUBLIC goes to the board\n"
        "  sign --key PRIVATE IN OUT\n"
        "                           write OUT: the raw image IN and its trailer\n"
        "  verify --key PUBLIC FILE check FILE's signature, as the board does\n"
        "  info FILE                print FILE's image length, vectors, SHA-256, trailer\n"
        "\n"
        "Options:\n"
        "  -h, --help               print this help and exit\n"
        "  -V, --version            print the version and exit\n"
        "\n"
        "Exit status: 0 done, 1 refused or failed, 2 wrong usage. See iapd-image(1).\n", f);
}

/* "--key FILE" before the positional arguments, or after them. */
static const char *take_key(int *argc, char **argv)
{
  for (int i = 0; i + 1 < *argc; i++) {
    if (strcmp(argv[i], "--key") == 0) {
      const char *key = argv[i + 1];
      memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 2) * sizeof(*argv));
      *argc -= 2;
      return key;
    }
  }
  return NULL;
}

static int wrong(const char *what)
{
  fprintf(stderr, "iapd-image: %s (see iapd-image --help)\n", what);
  return 2;
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return wrong("a command is needed: keygen, sign, verify or info");
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
    printf("iapd-image %s\n", PACKAGE_VERSION);
    return 0;
  }
  int n = argc - 2;
  char **args = argv + 2;
  if (strcmp(cmd, "keygen") == 0) {
    if (n != 2)
      return wrong("keygen takes PRIVATE PUBLIC");
    return image_tool_keygen(args[0], args[1], stdout, stderr);
  }
  if (strcmp(cmd, "sign") == 0 || strcmp(cmd, "verify") == 0) {
    const char *key = take_key(&n, args);
    int want = strcmp(cmd, "sign") == 0 ? 2 : 1;
    if (key == NULL || n != want)
      return wrong(want == 2 ? "sign takes --key PRIVATE IN OUT"
                             : "verify takes --key PUBLIC FILE");
    return want == 2 ? image_tool_sign(key, args[0], args[1], stdout, stderr)
                     : image_tool_verify(key, args[0], stdout, stderr);
  }
  if (strcmp(cmd, "info") == 0) {
    if (n != 1)
      return wrong("info takes FILE");
    return image_tool_info(args[0], stdout, stderr);
  }
  fprintf(stderr, "iapd-image: unknown command '%s' (see iapd-image --help)\n", cmd);
  return 2;
}
