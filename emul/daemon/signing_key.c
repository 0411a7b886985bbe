/* Loading the signing key (see signing_key.h). */
#include "signing_key.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"

bool signing_key_load(const char *path, struct iap_pubkey *key, char *err, size_t err_size)
{
  mbedtls_pk_context pk;
  size_t olen = 0;
  bool ok = false;
  FILE *f = fopen(path, "rb");

  if (f == NULL) {
    snprintf(err, err_size, "signing key %s: %s", path, strerror(errno));
    return false;
  }
  fclose(f);
  mbedtls_pk_init(&pk);
  if (mbedtls_pk_parse_public_keyfile(&pk, path) != 0) {
    snprintf(err, err_size, "signing key %s: not a public key (expected the PEM or DER file "
             "that iapd-image keygen writes as PUBLIC)", path);
  } else if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY
             || mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
    snprintf(err, err_size, "signing key %s: not an ECDSA P-256 public key", path);
  } else if (mbedtls_ecp_point_write_binary(&mbedtls_pk_ec(pk)->grp, &mbedtls_pk_ec(pk)->Q,
                                            MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, key->point,
                                            sizeof(key->point)) != 0
             || olen != sizeof(key->point) || !iap_pubkey_init(key)) {
    snprintf(err, err_size, "signing key %s: not a valid P-256 point", path);
  } else {
    ok = true;
  }
  mbedtls_pk_free(&pk);
  return ok;
}
