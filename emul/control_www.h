/*
 * The board page's files, embedded into iapd at build time from emul/www/ by
 * emul/www/embed.sh (the generated www_assets.c is never edited by hand).
 */
#ifndef IAPD_CONTROL_WWW_H
#define IAPD_CONTROL_WWW_H

#include <stddef.h>

struct www_asset {
  const char *path;            /* URL path, "/board.js" */
  const char *content_type;
  const unsigned char *data;
  size_t size;
};

extern const struct www_asset www_assets[];
extern const size_t www_asset_count;

#endif
