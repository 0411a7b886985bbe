/*
 * The emulated flash's backing store: a 1 MiB file (byte i = address 0x08000000 + i) mapped
 * shared into memory, so the flash survives restarts and can be read with ordinary tools.
 * A missing file is created erased (all 0xFF); a file of any other size is refused; the file
 * is locked so that a second iapd on it is refused. A file deleted, moved away or replaced
 * while iapd runs is lost: iapd would program a file nobody will open again. Every sync
 * checks for it (and the status asks): from then on sync fails, for good, and says why.
 */
#ifndef IAPD_FLASH_FILE_H
#define IAPD_FLASH_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "flash_model.h"

struct flash_file {
  int fd;
  uint8_t *map;
  struct flash_model model;
  char *path;                /* as opened, to find it replaced */
  dev_t dev;                 /* the file opened */
  ino_t ino;
  uint32_t checked_ms;       /* flash_file_watch's last check */
  bool lost;                 /* deleted, moved away or replaced: for good */
  char lost_text[512];       /* why, for the log and the status (a long path is cut) */
};

/* Opens, creates if missing, locks and maps path. Returns 0, or -1 with a message for the
 * user in err (which file, what is wrong, what to do). */
int flash_file_open(struct flash_file *f, const char *path, uint32_t protected_sectors,
                    char *err, size_t err_size);

/* Is the file still the one at its path? FLASH_ERR_IO, for good, when it was deleted, moved
 * away or replaced (logged once, as an error); FLASH_OK otherwise. */
enum flash_result flash_file_check(struct flash_file *f);

/* flash_file_check at most once a second (a stat and an fstat): the main loop calls it every
 * turn, so that a lost file is logged, and shown, within a second, upload or not. */
#define FLASH_FILE_WATCH_MS 1000u
void flash_file_watch(struct flash_file *f, uint32_t now_ms);

/* msync: everything programmed so far reaches the file. FLASH_ERR_IO when it cannot, or
 * when the file is lost (flash_file_check). */
enum flash_result flash_file_sync(struct flash_file *f);

/* Why the file is lost, NULL while it is not. */
const char *flash_file_error(const struct flash_file *f);

void flash_file_close(struct flash_file *f);

#endif
