/* The emulated flash's backing store: a 1 MiB file, locked and mapped shared. */
#include "flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

__attribute__((format(printf, 3, 4)))
static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
  if (err == NULL || err_size == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
}

/* Writes STM32_FLASH_SIZE bytes of 0xFF: a new flash file starts erased, as a chip leaves
 * the factory. Written rather than ftruncate()d, because a hole reads as 0x00, which is
 * programmed flash. Returns 0, or an errno value. */
static int fill_erased(int fd)
{
  uint8_t block[4096];
  memset(block, STM32_FLASH_ERASED_BYTE, sizeof(block));
  off_t offset = 0;
  while (offset < (off_t)STM32_FLASH_SIZE) {
    size_t want = sizeof(block);
    if ((off_t)want > (off_t)STM32_FLASH_SIZE - offset)
      want = (size_t)((off_t)STM32_FLASH_SIZE - offset);
    ssize_t n = pwrite(fd, block, want, offset);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (n == 0)
      return EIO;  /* a regular file that takes no bytes: do not loop forever */
    offset += n;
  }
  return fsync(fd) == 0 ? 0 : errno;
}

int flash_file_open(struct flash_file *f, const char *path, uint32_t protected_sectors,
                    char *err, size_t err_size)
{
  f->fd = -1;
  f->map = NULL;
  f->path = NULL;
  f->lost = false;

  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    set_error(err, err_size,
              "flash file %s: cannot open or create it: %s: check the path and its "
              "permissions", path, strerror(errno));
    return -1;
  }

  /* Lock before looking at the size: a second iapd must not fill or map a file the first
   * one is programming. flock() locks belong to the open file description, so even a
   * second open in the same process is refused. */
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      set_error(err, err_size,
                "flash file %s is in use by another iapd: stop it, or give this one "
                "another flash file", path);
    else
      set_error(err, err_size, "flash file %s: cannot lock it: %s", path, strerror(errno));
    close(fd);
    return -1;
  }

  struct stat st;
  if (fstat(fd, &st) != 0) {
    set_error(err, err_size, "flash file %s: cannot stat it: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    set_error(err, err_size,
              "flash file %s is not a regular file: give the path of a file to hold the "
              "emulated flash", path);
    close(fd);
    return -1;
  }

  if (st.st_size == 0) {
    int e = fill_erased(fd);
    if (e != 0) {
      /* Back to empty, so the next start fills it again instead of refusing a short file. */
      if (ftruncate(fd, 0) != 0) {
        /* Nothing more to do: the size check on the next start names the problem. */
      }
      set_error(err, err_size,
                "flash file %s: cannot fill it with %" PRIu32 " erased bytes: %s: free "
                "space or choose another place for it", path, STM32_FLASH_SIZE, strerror(e));
      close(fd);
      return -1;
    }
  } else if (st.st_size != (off_t)STM32_FLASH_SIZE) {
    set_error(err, err_size,
              "flash file %s is %jd bytes; an STM32F407 flash file is exactly %" PRIu32
              " bytes (1 MiB): remove it to start from an erased flash",
              path, (intmax_t)st.st_size, STM32_FLASH_SIZE);
    close(fd);
    return -1;
  }

  void *map = mmap(NULL, STM32_FLASH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    set_error(err, err_size, "flash file %s: cannot map it: %s", path, strerror(errno));
    close(fd);
    return -1;
  }

  f->path = strdup(path);
  if (f->path == NULL) {
    set_error(err, err_size, "flash file %s: out of memory", path);
    munmap(map, STM32_FLASH_SIZE);
    close(fd);
    return -1;
  }
  f->fd = fd;
  f->map = map;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  flash_model_init(&f->model, f->map, protected_sectors);
  return 0;
}

enum flash_result flash_file_check(struct flash_file *f)
{
  struct stat st;
  const char *why = NULL;

  if (f->lost || f->map == NULL)
    return FLASH_ERR_IO;
  if (stat(f->path, &st) == 0) {
    if (st.st_dev != f->dev || st.st_ino != f->ino)
      why = "was replaced by another file";
  } else if (errno != ENOENT) {
    why = "cannot be found at its path";
  } else {
    why = fstat(f->fd, &st) == 0 && st.st_nlink == 0 ? "was deleted" : "was moved away";
  }
  if (why == NULL)
    return FLASH_OK;
  /* What was programmed before is in the old file, still mapped; the next iapd starts on
   * whatever is at the path now. Nothing here can fix that without losing one or the other:
   * the operator decides, and meanwhile no upload is taken that would not be kept. */
  f->lost = true;
  snprintf(f->lost_text, sizeof(f->lost_text), "flash file %s %s while iapd runs: what is "
           "programmed from now on is lost; uploads are refused until iapd is restarted",
           f->path, why);
  log_err("flash", "%s", f->lost_text);
  return FLASH_ERR_IO;
}

void flash_file_watch(struct flash_file *f, uint32_t now_ms)
{
  if (f->lost || now_ms - f->checked_ms < FLASH_FILE_WATCH_MS)
    return;
  f->checked_ms = now_ms;
  flash_file_check(f);
}

enum flash_result flash_file_sync(struct flash_file *f)
{
  if (f->map == NULL)
    return FLASH_ERR_IO;
  if (msync(f->map, STM32_FLASH_SIZE, MS_SYNC) != 0)
    return FLASH_ERR_IO;
  return flash_file_check(f);
}

const char *flash_file_error(const struct flash_file *f)
{
  return f->lost ? f->lost_text : NULL;
}

void flash_file_close(struct flash_file *f)
{
  if (f->map != NULL)
    munmap(f->map, STM32_FLASH_SIZE);
  if (f->fd >= 0)
    close(f->fd);  /* the last descriptor of the open file description: releases the lock */
  f->map = NULL;
  f->fd = -1;
  f->model.mem = NULL;
  free(f->path);
  f->path = NULL;
  f->lost = false;
}
