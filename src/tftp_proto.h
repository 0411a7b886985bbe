/*
 * TFTP packets (RFC 1350; options RFC 2347, 2348, 2349, 7440): constants named as the RFCs
 * name them, a request parser that length-checks before it reads, and builders for what the
 * server sends. Which options a transfer runs with is the core's decision (tftp_core.c); here
 * they are only found and read. No I/O here: tests and the fuzzer drive it with plain bytes.
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

/* Option values the RFCs allow. */
#define TFTP_BLKSIZE_MIN     8      /* RFC 2348 */
#define TFTP_BLKSIZE_LIMIT   65464  /* RFC 2348: the largest blksize a client may ask for */
#define TFTP_TIMEOUT_MIN_S   1      /* RFC 2349 */
#define TFTP_TIMEOUT_MAX_S   255
#define TFTP_WINDOWSIZE_MIN  1      /* RFC 7440 */
#define TFTP_WINDOWSIZE_LIMIT 65535

/* Option name/value pairs read from one request; more are ignored (RFC 2347 lets a server
 * ignore options). */
#define TFTP_REQUEST_MAX_OPTIONS 8

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

/* The options this server knows; names are case-insensitive (RFC 2347). */
enum tftp_option_name {
  TFTP_OPT_UNKNOWN,
  TFTP_OPT_BLKSIZE,     /* RFC 2348 */
  TFTP_OPT_TSIZE,       /* RFC 2349 */
  TFTP_OPT_TIMEOUT,     /* RFC 2349 */
  TFTP_OPT_WINDOWSIZE,  /* RFC 7440 */
};

struct tftp_option {
  const char *name;   /* NUL-terminated, inside the packet */
  const char *value;  /* NUL-terminated, inside the packet */
};

struct tftp_request {
  enum tftp_opcode opcode;   /* TFTP_RRQ or TFTP_WRQ */
  const char *filename;      /* NUL-terminated, inside the packet */
  const char *mode_name;     /* NUL-terminated, inside the packet */
  enum tftp_mode mode;
  /* The option pairs in the order sent, the first TFTP_REQUEST_MAX_OPTIONS of them; a name
   * without a value at the end of the packet is not a pair and is left out. */
  struct tftp_option options[TFTP_REQUEST_MAX_OPTIONS];
  size_t noptions;
};

/* Opcode of a packet, or 0 when it is shorter than an opcode. */
uint16_t tftp_packet_opcode(const uint8_t *pkt, size_t len);

/* Parses an RRQ/WRQ. Returns true, or false with a reason for an ERROR 4 in *why. */
bool tftp_parse_request(const uint8_t *pkt, size_t len, struct tftp_request *req,
                        const char **why);

/* Which known option a name is (any case), or TFTP_OPT_UNKNOWN. */
enum tftp_option_name tftp_option_lookup(const char *name);

/* The name of a known option as the server writes it in an OACK (lower case). */
const char *tftp_option_str(enum tftp_option_name opt);

/* An option value: decimal digits only, within 32 bits. False for anything else (empty, a
 * sign, blanks, hex, too large). */
bool tftp_option_value(const char *text, uint32_t *value);

/* Block number of a DATA or ACK packet (len >= TFTP_HEADER_SIZE checked by the caller). */
uint16_t tftp_packet_block(const uint8_t *pkt);

/* Writes an ACK for `block` into buf (4 bytes); returns 4. */
size_t tftp_build_ack(uint8_t *buf, uint16_t block);

/* Writes an ERROR packet with code and message (truncated to fit size, always
 * NUL-terminated) into buf; returns its length. size must be at least 5. */
size_t tftp_build_error(uint8_t *buf, size_t size, uint16_t code, const char *message);

/* Starts an OACK (RFC 2347) in buf: writes the opcode, returns 2. buf holds at least 2. */
size_t tftp_build_oack(uint8_t *buf);

/* Appends "name\0value\0" (value in decimal) to the OACK of length len in buf of size bytes;
 * returns the new length, or 0 when it does not fit (buf is then unchanged past len). */
size_t tftp_oack_add(uint8_t *buf, size_t size, size_t len, const char *name, uint32_t value);

#endif
