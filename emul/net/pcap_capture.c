/* Packet capture to a pcap file (see pcap_capture.h). */
#include "pcap_capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"

#define SNAPLEN 65535

static int open_dumper(struct pcap_capture *c, char *err, size_t err_size)
{
  pcap_dumper_t *d = pcap_dump_open(c->pcap, c->path);
  if (d == NULL) {
    /* libpcap's message starts with the file name. */
    snprintf(err, err_size, "cannot write the packet capture: %s", pcap_geterr(c->pcap));
    return -1;
  }
  c->dumper = d;
  c->failed = false;
  /* The file header now, so the file is a valid (empty) capture before the first frame. */
  if (pcap_dump_flush(d) != 0) {
    snprintf(err, err_size, "cannot write the packet capture %s: %s", c->path,
             strerror(errno));
    pcap_dump_close(d);
    c->dumper = NULL;
    return -1;
  }
  return 0;
}

int pcap_capture_open(struct pcap_capture *c, const char *path, char *err, size_t err_size)
{
  memset(c, 0, sizeof(*c));
  if (strlen(path) >= sizeof(c->path)) {
    snprintf(err, err_size, "packet capture file name too long");
    return -1;
  }
  snprintf(c->path, sizeof(c->path), "%s", path);
  c->pcap = pcap_open_dead(DLT_EN10MB, SNAPLEN);
  if (c->pcap == NULL) {
    snprintf(err, err_size, "cannot set up the packet capture: out of memory");
    return -1;
  }
  if (open_dumper(c, err, err_size) < 0) {
    pcap_close(c->pcap);
    c->pcap = NULL;
    return -1;
  }
  return 0;
}

void pcap_capture_frame(struct pcap_capture *c, const uint8_t *frame, size_t len)
{
  struct pcap_pkthdr h;

  if (c->dumper == NULL || c->failed)
    return;
  gettimeofday(&h.ts, NULL);
  h.caplen = h.len = (bpf_u_int32)len;
  pcap_dump((u_char *)c->dumper, &h, frame);
  /* Flushed per frame: the file is complete up to the last frame at any moment. */
  if (pcap_dump_flush(c->dumper) != 0) {
    c->failed = true;
    log_err("net", "packet capture %s: write failed (%s); capture stopped", c->path,
            strerror(errno));
    return;
  }
  c->frames++;
}

void pcap_capture_observer(void *ctx, enum netif_backend_dir dir, const uint8_t *frame,
                           size_t len)
{
  (void)dir;  /* both directions go to the one file; the MAC addresses tell them apart */
  pcap_capture_frame(ctx, frame, len);
}

int pcap_capture_reopen(struct pcap_capture *c, char *err, size_t err_size)
{
  if (c->pcap == NULL) {
    snprintf(err, err_size, "no packet capture");
    return -1;
  }
  if (strcmp(c->path, "-") == 0)
    return 0;  /* standard output cannot be rotated */
  if (c->dumper != NULL)
    pcap_dump_close(c->dumper);
  c->dumper = NULL;
  c->frames = 0;
  return open_dumper(c, err, err_size);
}

void pcap_capture_close(struct pcap_capture *c)
{
  if (c->dumper != NULL)
    pcap_dump_close(c->dumper);
  if (c->pcap != NULL)
    pcap_close(c->pcap);
  c->dumper = NULL;
  c->pcap = NULL;
}
