/* The HTTP tests' view of the gzip pages (see gzip_page.h). */
#include "gzip_page.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http_fs.h"

extern const struct http_fs_file http_fs_plain_files[];
extern const size_t http_fs_plain_files_count;

char *test_page_with_text(const char *path, const char *text)
{
  const struct http_fs_file *f = NULL;
  for (size_t i = 0; i < http_fs_plain_files_count; i++)
    if (strcmp(http_fs_plain_files[i].path, path) == 0)
      f = &http_fs_plain_files[i];
  ck_assert_msg(f != NULL, "no page %s", path);
  size_t tl = strlen(text);
  char *page = malloc(f->len + tl + 1);
  ck_assert_ptr_nonnull(page);
  size_t before = f->marker < 0 ? f->len : (size_t)f->marker;
  memcpy(page, f->data, before);
  if (f->marker >= 0) {
    size_t after = f->len - before - strlen(HTTP_FS_MARKER);
    memcpy(page + before, text, tl);
    memcpy(page + before + tl, f->data + before + strlen(HTTP_FS_MARKER), after);
    page[before + tl + after] = '\0';
  } else {
    page[before] = '\0';
  }
  return page;
}

const char *test_gunzip(const void *body, size_t len, size_t *out_len)
{
  static char buf[4][16384];
  static unsigned next;
  char *out = buf[next++ % 4];
  z_stream z;

  memset(&z, 0, sizeof(z));
  ck_assert_int_eq(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);   /* gzip only */
  z.next_in = (Bytef *)(uintptr_t)body;
  z.avail_in = (uInt)len;
  z.next_out = (Bytef *)out;
  z.avail_out = sizeof(buf[0]) - 1;
  int rc = inflate(&z, Z_FINISH);
  ck_assert_msg(rc == Z_STREAM_END, "the gzip body does not decode: zlib %d (%s)", rc,
                z.msg ? z.msg : "");
  ck_assert_uint_eq(z.avail_in, 0);   /* one member, nothing after it */
  *out_len = z.total_out;
  out[z.total_out] = '\0';
  inflateEnd(&z);
  return out;
}
