/*
 * snprintf for the IAP code, on both targets: the messages a client reads (TFTP ERROR texts,
 * HTTP pages), the boot decision and the log lines. It writes what the C library's snprintf
 * writes for the conversions src/ and firmware/ use, and nothing more:
 *
 *   %s %c %d %u %x %p %%, the flag '0', a width, a precision ('.N' or '.*'), the length
 *   modifiers l and z.
 *
 * Any other conversion or flag is copied as it stands (-Wformat checks the arguments, not
 * this list: tests/check_format.c is where a new form is added and checked). The return value is snprintf's: the length of
 * the whole text, even when it was cut to fit size - 1 bytes (always NUL-terminated when
 * size > 0). The firmware links no printf from its C library (3-5 KiB on the chip);
 * tests/check_format.c compares every form with the host's snprintf.
 */
#ifndef IAPD_IAP_FORMAT_H
#define IAPD_IAP_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

int iap_snprintf(char *buf, size_t size, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
int iap_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
  __attribute__((format(printf, 3, 0)));

/* "a.b.c.d" of an IPv4 address given as its four bytes in network order (an ip4_addr_t, a
 * packet's field), in buf of IAP_IP4_TEXT_SIZE bytes: the one formatter of the addresses in
 * log lines and messages, so the firmware links no other (lwIP's ip4addr_ntoa_r). */
#define IAP_IP4_TEXT_SIZE 16
void iap_format_ip4(char buf[IAP_IP4_TEXT_SIZE], const void *octets);

#endif
