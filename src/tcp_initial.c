/* A new TCP connection's sequence number and window (see tcp_initial.h). */
#include "tcp_initial.h"

#include "lwip/opt.h"

#if LWIP_TCP  /* a TFTP-only firmware has no TCP, and lwIP calls no hook */
#include "iap_random.h"
#include "lwip/tcp.h"

static uint32_t initial_window;

void tcp_initial_set_window(uint32_t bytes)
{
  initial_window = bytes;
}

uint32_t tcp_initial_hook(struct tcp_pcb *pcb)
{
  /* tcp_recved() only gives back what was taken, so the window never grows past this. */
  if (initial_window != 0 && initial_window < TCP_WND)
    pcb->rcv_wnd = pcb->rcv_ann_wnd = (tcpwnd_size_t)initial_window;
  return iap_random32();
}
#endif
