/* Compile-time options of the TFTP server, with guarded defaults. */
#ifndef IAPD_TFTP_OPTS_H
#define IAPD_TFTP_OPTS_H

/* Re-send the last ACK after this long without the next DATA, unless the client negotiated a
 * timeout (RFC 2349). curl waits about 73 s before it re-sends a lost DATA on its own; our
 * re-ACK makes it send again within a second. */
#if !defined TFTP_TIMEOUT_MS
#define TFTP_TIMEOUT_MS 1000
#endif

/* Re-sends of one ACK before an abandoned transfer is aborted. */
#if !defined TFTP_MAX_RETRIES
#define TFTP_MAX_RETRIES 5
#endif

/* After the final ACK, stay this long to re-ACK a final DATA whose ACK was lost (RFC 1350
 * section 6). Clients re-send after 1 to 5 s; tftp-hpa's default is 5 s. A client that
 * negotiated a timeout re-sends after that many seconds: the dally is then twice it, if
 * that is longer. */
#if !defined TFTP_DALLY_MS
#define TFTP_DALLY_MS 6000
#endif

/* A duplicate of the DATA just acknowledged is re-ACKed only if our ACK went out at least this
 * long ago. A duplicate that arrives sooner crossed our ACK on the wire: answering it would
 * double every following packet with clients that send DATA on each ACK (the Sorcerer's
 * Apprentice, RFC 1123 4.2.3.1). A lost ACK is still answered on the client's own re-send
 * (at least 1 s later) or by our timeout. */
#if !defined TFTP_DUP_ACK_HOLDOFF_MS
#define TFTP_DUP_ACK_HOLDOFF_MS 200
#endif

/* The largest block (RFC 2348 blksize) the board answers: what one Ethernet frame carries
 * without IP fragmentation, 1500 (the MTU) - 20 (IPv4 header) - 8 (UDP) - 4 (TFTP header).
 * The board does not reassemble IP fragments (src/lwipopts.h), so a larger block would never
 * arrive. It also sizes the receive buffer of tftp_server.c; a lower limit is set at run time
 * with struct tftp_limits (iapd --tftp-max-blksize). */
#if !defined TFTP_BLKSIZE_MAX
#define TFTP_BLKSIZE_MAX 1468
#endif

/* The largest window (RFC 7440 windowsize) answered when the caller sets no limit. Blocks are
 * written in order as they arrive, so a window costs the core no buffer; what bounds it is
 * how many frames the network interface queues while one block is being programmed (iapd:
 * the TAP device's queue, --tftp-max-windowsize; the firmware: its Ethernet DMA ring, see
 * firmware/board_opts.h). */
#if !defined TFTP_WINDOWSIZE_MAX
#define TFTP_WINDOWSIZE_MAX 64
#endif

#endif
