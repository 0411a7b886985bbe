/* Compile-time options of the TFTP server, with guarded defaults. */
#ifndef IAPD_TFTP_OPTS_H
#define IAPD_TFTP_OPTS_H

/* Re-send the last ACK after this long without the next DATA. curl waits about 73 s before it
 * re-sends a lost DATA on its own; our re-ACK makes it send again within a second. */
#if !defined TFTP_TIMEOUT_MS
#define TFTP_TIMEOUT_MS 1000
#endif

/* Re-sends of one ACK before an abandoned transfer is aborted. */
#if !defined TFTP_MAX_RETRIES
#define TFTP_MAX_RETRIES 5
#endif

/* After the final ACK, stay this long to re-ACK a final DATA whose ACK was lost (RFC 1350
 * section 6). Clients re-send after 1 to 5 s; tftp-hpa's default is 5 s. */
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

#endif
