/*
 * iapd-image's commands as functions (tools/iapd_image.c is only their command line), so the
 * unit tests sign and verify with the very code users run. Output goes to out, errors (one
 * line, "iapd-image: ...") to err; each returns the exit status: 0 done, 1 refused or failed.
 */
#ifndef IAPD_IMAGE_TOOL_H
#define IAPD_IMAGE_TOOL_H

#include <stdio.h>

int image_tool_keygen(const char *private_path, const char *public_path, FILE *out, FILE *err);
int image_tool_sign(const char *key_path, const char *in_path, const char *out_path, FILE *out,
                    FILE *err);
int image_tool_verify(const char *key_path, const char *path, FILE *out, FILE *err);
int image_tool_info(const char *path, FILE *out, FILE *err);

#endif
