/*
 * The public key of --signing-key (and iapd-image verify): a PEM or DER file as mbed TLS reads
 * it (SubjectPublicKeyInfo, as `iapd-image keygen` writes), which must be an ECDSA P-256 key.
 */
#ifndef IAPD_SIGNING_KEY_H
#define IAPD_SIGNING_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "iap_crypto.h"

/* Loads the public key in path into key (point and id). False with a sentence naming the
 * file in err otherwise. */
bool signing_key_load(const char *path, struct iap_pubkey *key, char *err, size_t err_size);

#endif
