/*
 * The emulated flash's backing store: a 1 MiB file (byte i = address 0x08000000 + i) mapped
 * shared into memory, so the flash survives restarts and can be read with ordinary tools.
 * A missing file is created erased (all 0xFF); a file of any other size is refused; the file
 * is locked so that a second iapd on it is refused.
 */
#ifndef IAPD_FLASH_FILE_H
#define IAPD_FLASH_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "flash_model.h"

struct flash_file {
  int fd;
  uint8_t *map;
  struct flash_model model;
};

/* Opens, creates if missing, locks and maps path. Returns 0, or -1 with a message for the
 * user in err (which file, what is wrong, what to do). */
int flash_file_open(struct flash_file *f, const char *path, uint32_t protected_sectors,
                    char *err, size_t err_size);

/* msync: everything programmed so far reaches the file. */
enum flash_result flash_file_sync(struct flash_file *f);

void flash_file_close(struct flash_file *f);

#endif
