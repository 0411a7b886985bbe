/*
 * The log seam (src/log.h) on the board: the lines AN3376 showed on the LCD go out of USART3
 * (PC10 TX, AF7) to the STM324xG-EVAL's RS232 connector CN16, 115200 8N1, one line per
 * message: "module: [error: |warning: ]text\r\n", as iapd prints them. Transmission is
 * polled: at 115200 baud a 100-character line holds the main loop for about 9 ms.
 */
#ifndef IAPD_LOG_UART_H
#define IAPD_LOG_UART_H

/* After clock_init(): pins, USART3 at LOG_BAUD. A no-op when IAP_LOG is 0. */
void log_uart_init(void);

/* Waits until the last byte has left the shift register (before a reset or the jump). */
void log_uart_flush(void);

#endif
