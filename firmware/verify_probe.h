/*
 * A measurement, not a feature: SHA-256 over the image and an ECDSA P-256 verification, as
 * the verified boot will do them, linked into the "+verify-bearssl" row of the size
 * report (verify_probe.c). true: the signature verifies.
 */
#ifndef IAPD_VERIFY_PROBE_H
#define IAPD_VERIFY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined VERIFY_PROBE
#define VERIFY_PROBE 0
#endif

bool verify_probe(const uint8_t *image, size_t len, const uint8_t *key65, const uint8_t *sig,
                  size_t sig_len);

#endif
