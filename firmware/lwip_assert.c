/* lwIP's LWIP_PLATFORM_ASSERT on the board (see lwip-arch/arch/cc.h). */
#include "arch/cc.h"
#include "log.h"
#include "log_uart.h"

void lwip_assert_failed(int line)
{
  /* The address of the call: addr2line names the file and the assertion. */
  void *where = __builtin_return_address(0);
  log_err("lwip", "assertion failed at line %d, address %p", line, where);
  log_uart_flush();
  __asm volatile ("cpsid i" ::: "memory");
  for (;;)
    ;
}
