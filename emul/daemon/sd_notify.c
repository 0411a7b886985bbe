/* systemd notification over $NOTIFY_SOCKET (see sd_notify.h). */
#include "sd_notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

bool sd_notify_wanted(void)
{
  const char *path = getenv("NOTIFY_SOCKET");
  return path != NULL && path[0] != '\0';
}

int sd_notify_send(const char *state, char *err, size_t err_size)
{
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sun;
  size_t len;
  int fd;

  if (path == NULL || path[0] == '\0')
    return 0;
  len = strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun.sun_path)) {
    snprintf(err, err_size, "NOTIFY_SOCKET=%s is not a socket path or abstract name", path);
    return -1;
  }
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, len);
  if (path[0] == '@')
    sun.sun_path[0] = '\0';  /* abstract namespace */

  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, err_size, "cannot notify systemd: socket: %s", strerror(errno));
    return -1;
  }
  ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
  int e = errno;
  close(fd);
  if (n != (ssize_t)strlen(state)) {
    snprintf(err, err_size, "cannot notify systemd at %s: %s", path,
             n < 0 ? strerror(e) : "short write");
    return -1;
  }
  return 1;
}
