/*
 * TFTP packets (RFC 1350, options RFC 2347/2349): constants named as the RFCs name them, a
 * request parser that length-checks before it reads, and builders for what the server sends.
 * No I/O here: tests and the fuzzer drive it with plain bytes.
 */
#ifndef IAPD_TFTP_PROTO_H
#define IAPD_TFTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TFTP_PORT            69
#define TFTP_BLOCK_SIZE      512  /* RFC 1350: no option negotiated, 512-byte blocks */
#define TFTP_HEADER_SIZE     4    /* opcode + block number / error code */
#define TFTP_MAX_DATA_PACKET (TFTP_HEADER_SIZE + TFTP_BLOCK_SIZE)

enum tftp_opcode {
  TFTP_RRQ = 1,
  TFTP_WRQ = 2,
  TFTP_DATA = 3,
  TFTP_ACK = 4,
  TFTP_ERROR = 5,
  TFTP_OACK = 6,  /* RFC 2347 */
};

enum tftp_error_code {
  TFTP_EUNDEF = 0,     /* Not defined, see error message */
  TFTP_ENOTFOUND = 1,  /* File not found */
  TFTP_EACCESS = 2,    /* Access violation */
  TFTP_ENOSPACE = 3,   /* Disk full or allocation exceeded */
  TFTP_EBADOP = 4,     /* Illegal TFTP operation */
  TFTP_EBADID = 5,     /* Unknown transfer ID */
  TFTP_EEXISTS = 6,    /* File already exists */
  TFTP_ENOUSER = 7,    /* No such user */
  TFTP_EOPTNEG = 8,    /* RFC 2347: option negotiation refused */
};

enum tftp_mode { TFTP_MODE_OCTET, TFTP_MODE_NETASCII, TFTP_MODE_MAIL, TFTP_MODE_UNKNOWN };

struct tftp_request {
  enum tftp_opcode opcode;   /* TFTP_RRQ or TFTP_WRQ */
  const char *filename;      /* NUL-terminated, inside the packet */
  const char *mode_name;     /* NUL-terminated, inside the packet */
  enum tftp_mode mode;
  bool has_tsize;            /* RFC 2349 tsize option present with a valid value */
  uint32_t tsize;
};

/* Opcode of a packet, or 0 when it is shorter than an opcode. */
uint16_t tftp_packet_opcode(const uint8_t *pkt, size_t len);

/* Parses an RRQ/WRQ. Returns true, or false with a reason for an ERROR 4 in *why. */
bool tftp_parse_request(const uint8_t *pkt, size_t len, struct tftp_request *req,
                        const char **why);

/* Block number of a DATA or ACK packet (len >= TFTP_HEADER_SIZE checked by the caller). */
uint16_t tftp_packet_block(const uint8_t *pkt);

/* Writes an ACK for `block` into buf (4 bytes); returns 4. */
size_t tftp_build_ack(uint8_t *buf, uint16_t block);

/* Writes an ERROR packet with code and message (truncated to fit size, always
 * NUL-terminated) into buf; returns its length. size must be at least 5. */
size_t tftp_build_error(uint8_t *buf, size_t size, uint16_t code, const char *message);

#endif
