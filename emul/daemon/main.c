/* iapd: the emulated STM32F407 IAP board. */
#include <stdio.h>

#include "iapd.h"
#include "options.h"

int main(int argc, char **argv)
{
  static struct iapd_options opt;
  switch (options_parse(&opt, argc, argv, stdout, stderr)) {
  case OPTIONS_EXIT:
    return 0;
  case OPTIONS_ERROR:
    return 2;
  case OPTIONS_OK:
    break;
  }
  return iapd_run(&opt);
}
