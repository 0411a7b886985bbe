/* Lookup in the generated ROM file system (see http_fs.h). */
#include "http_fs.h"

#include <string.h>

const struct http_fs_file *http_fs_find(const char *path)
{
  for (size_t i = 0; i < http_fs_files_count; i++)
    if (strcmp(http_fs_files[i].path, path) == 0)
      return &http_fs_files[i];
  return NULL;
}
