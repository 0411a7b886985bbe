/* lwIP's hooks (LWIP_HOOK_FILENAME in src/lwipopts.h): one header for every lwIP file. */
#ifndef IAPD_LWIP_HOOKS_H
#define IAPD_LWIP_HOOKS_H

#include "ip_fragments.h"
#include "tcp_initial.h"

#endif
