/* lwIP architecture header for the emulated board (Linux, gcc or clang). */
#ifndef IAPD_EMUL_ARCH_CC_H
#define IAPD_EMUL_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
/* An lwIP assertion is a bug in iapd or lwIP, never bad network input: stop loudly. */
#define LWIP_PLATFORM_ASSERT(x) do { \
    fprintf(stderr, "iapd: lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
    abort(); \
  } while (0)

#endif
