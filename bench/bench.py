#!/usr/bin/env python3
"""iapd against the peers, side by side in one run (`make bench`; bench/RESULTS.md).

Everything happens in network namespaces this script makes and that vanish with it:

  A  (this script, re-run under `unshare -n -m`): the clients and iapd, its board behind the
     TAP device tap0 (board 192.168.0.10, host side 192.168.0.1), as in the tests;
  B  (an `unshare -n` process of its own): tftpd-hpa and nginx on 192.168.1.10, reached from A
     over a veth pair (A's end 192.168.1.1), offloads off so that both links carry the same
     1500-byte frames with their checksums computed (the TAP has no offloads);
  50 more, one per board, for the idle boards.

A private tmpfs (the mount namespace of A) holds iapd's flash files and the peers' upload
directory, so neither side writes to a disk. Every process started here gets SIGKILL if this
script dies (PR_SET_PDEATHSIG), and is stopped by its PID at the end, failure or not; the
namespaces go with their last process.

Measured: median wall time of N interleaved runs (iapd and peer alternate, the order swapped
every run) per protocol, client, mode and size; iapd's CPU time per MiB (/proc/PID/schedstat,
ns) around its own uploads, and instructions per MiB (callgrind, one 960 KiB upload per mode
less an idle run); peak RSS (VmHWM); idle wake-ups (voluntary context switches over 10 s);
50 idle boards: RSS and PSS each, their total CPU over 20 s. Timing claims live in
bench/RESULTS.md, never in make check.
"""

import argparse
import ctypes
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BOARD_IP = "192.168.0.10"
PEER_IP = "192.168.1.10"
PEER_NET_A = "192.168.1.1/24"
PEER_NET_B = "192.168.1.10/24"
READY_TFTP = "tftp: server ready on"
READY_HTTP = "http: server ready on"
# "960K" is the largest image the user flash takes: 960 KiB less the 128 bytes that hold the
# commit record at its end (man iapd, VERIFIED BOOT). Both sides get the same bytes.
RECORD_BYTES = 128
SIZES = [("64K", 64 * 1024), ("256K", 256 * 1024), ("960K", 960 * 1024 - RECORD_BYTES)]
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
MARKER = "IAPD_BENCH_NETNS"

# (protocol, client, mode): tftp-hpa's client has no options; curl none for windowsize.
TFTP_CASES = [
    ("tftp-hpa", "512"),
    ("curl", "512"),
    ("atftp", "512"),
    ("curl", "1428"),
    ("atftp", "1428"),
    ("atftp", "1428+w16"),
]
REQUIRED_TOOLS = ["ip", "ss", "unshare", "nsenter", "ethtool", "timeout", "curl", "tftp", "atftp",
                  "in.tftpd", "nginx", "valgrind"]

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def die(msg, status=1):
    print("bench: error: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(status)


def say(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# --- processes: every one started here is listed, and stopped by its PID ----------------

class Procs:
    def __init__(self):
        self.running = []

    def start(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kw)
        self.running.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait_s=5.0):
        """Signals p by its PID, waits (bounded), then SIGKILL. Returns its exit status."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if p in self.running:
            self.running.remove(p)
        return p.returncode

    def stop_all(self):
        for p in reversed(list(self.running)):
            self.stop(p, wait_s=3.0)


def run(argv, timeout=30, check=True, **kw):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, text=True, **kw)
    if check and r.returncode != 0:
        die("%s exited %d: %s" % (" ".join(argv), r.returncode, r.stdout.strip()))
    return r


# --- /proc readings ------------------------------------------------------------------------

def cpu_ns(pid):
    """Time on CPU (user + system), ns, from /proc/PID/schedstat."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def stat_ticks(pid, children=True):
    """utime + stime (+ cutime + cstime) in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    t = int(fields[11]) + int(fields[12])
    if children:
        t += int(fields[13]) + int(fields[14])
    return t


def tree_ticks(pid):
    """CPU ticks of pid, its reaped children and its living descendants."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            total += stat_ticks(p)
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def ctxt_switches(pid):
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    v = int(re.search(r"voluntary_ctxt_switches:\s+(\d+)", text).group(1))
    n = int(re.search(r"nonvoluntary_ctxt_switches:\s+(\d+)", text).group(1))
    return v, n


def wait_log(path, needle, proc, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            if needle in f.read():
                return
        if proc.poll() is not None:
            die("%s exited (%s) before logging '%s'; see %s" % (proc.args[0], proc.returncode,
                                                                needle, path))
        time.sleep(0.05)
    with open(path, errors="replace") as f:
        tail = f.read()[-1500:]
    die("no '%s' in %s within %d s; it ends:\n%s" % (needle, path, timeout_s, tail))


def count_in(path, needle):
    with open(path, errors="replace") as f:
        return f.read().count(needle)


# --- the machine -----------------------------------------------------------------------------

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return {"cpu": model, "cores": os.cpu_count(), "kernel": os.uname().release, "load": load}


# --- the bench -----------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.a = args
        self.procs = Procs()
        self.work = None
        self.rows = []          # (proto, client, mode, size_label, iapd_med, peer_med, n)
        self.cpu = {}           # group -> [ns, bytes]
        self.peer_cpu = {}      # group -> [ticks, bytes]
        self.instr = {}         # group -> instructions per MiB
        self.lines = []

    # namespaces and servers

    def setup(self):
        self.work = tempfile.mkdtemp(prefix="iapd-bench.")
        # The mount namespace is this process's own (unshare -m): the tmpfs goes with it.
        run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=0755", "iapd-bench", self.work])
        for d in ("images", "peer", "peer/tftp", "peer/www", "peer/nginx", "boards"):
            os.makedirs(os.path.join(self.work, d), exist_ok=True)
        # tftpd-hpa and nginx's workers run as nobody: their directories must take files.
        for d in ("peer/tftp", "peer/www", "peer/nginx"):
            os.chmod(os.path.join(self.work, d), 0o1777)
        run(["ip", "link", "set", "lo", "up"])
        self.images = {}
        for label, size in SIZES:
            path = os.path.join(self.work, "images", "app-%s.bin" % label)
            run([self.a.mkimage, "--link", "0x08010000", "--size", str(size), "--seed", "7",
                 "-o", path])
            self.images[label] = path

        # Namespace B: a process that holds it; the veth's far end moves into it.
        self.holder = self.procs.start(["unshare", "-n", "sleep", "3600"])
        netns_b = "/proc/%d/ns/net" % self.holder.pid
        deadline = time.monotonic() + 5
        while os.readlink(netns_b) == os.readlink("/proc/self/ns/net"):
            if time.monotonic() > deadline:
                die("unshare -n did not make a namespace for the peers")
            time.sleep(0.02)
        run(["ip", "link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns",
             str(self.holder.pid)])
        run(["ip", "addr", "add", PEER_NET_A, "dev", "vA"])
        run(["ip", "link", "set", "vA", "up"])
        self.in_b(["ip", "link", "set", "lo", "up"])
        self.in_b(["ip", "addr", "add", PEER_NET_B, "dev", "vB"])
        self.in_b(["ip", "link", "set", "vB", "up"])
        if not self.a.veth_offloads:
            off = ["tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off"]
            run(["ethtool", "-K", "vA"] + off)
            self.in_b(["ethtool", "-K", "vB"] + off)

        tftp_dir = os.path.join(self.work, "peer/tftp")
        self.tftpd_log = open(os.path.join(self.work, "tftpd.log"), "w")
        self.tftpd = self.procs.start(
            ["nsenter", "-t", str(self.holder.pid), "-n", "in.tftpd", "-L", "-c", "-s",
             "-a", PEER_IP + ":69", tftp_dir], stdout=self.tftpd_log, stderr=subprocess.STDOUT)
        self.nginx = self.start_nginx()
        self.iapd = self.start_iapd("tap0", os.path.join(self.work, "flash.bin"),
                                    os.path.join(self.work, "iapd.log"))
        # Both peers answer before anything is timed.
        self.wait_port_b(PEER_IP, 80, "tcp")
        self.wait_port_b(PEER_IP, 69, "udp")
        self.warm_up()

    def in_b(self, argv, **kw):
        return run(["nsenter", "-t", str(self.holder.pid), "-n"] + argv, **kw)

    def start_nginx(self):
        d = os.path.join(self.work, "peer/nginx")
        www = os.path.join(self.work, "peer/www")
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off;
master_process on;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %(d)s/body;
  proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fastcgi;
  server {
    listen %(ip)s:80;
    root %(www)s;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 2m;
      client_body_buffer_size 128k;
    }
  }
}
""" % {"d": d, "www": www, "ip": PEER_IP})
        log = open(os.path.join(self.work, "nginx.log"), "w")
        return self.procs.start(["nsenter", "-t", str(self.holder.pid), "-n", "nginx",
                                 "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf],
                                stdout=log, stderr=subprocess.STDOUT)

    def wait_port_b(self, ip, port, proto):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = self.in_b(["ss", "-Hln" + ("t" if proto == "tcp" else "u")], check=False)
            if "%s:%d" % (ip, port) in r.stdout:
                return
            for name, p in (("nginx", self.nginx), ("in.tftpd", self.tftpd)):
                if p.poll() is not None:
                    die("%s exited (%s): see %s/%s.log" % (name, p.returncode, self.work,
                                                          "nginx" if name == "nginx" else "tftpd"))
            time.sleep(0.05)
        die("nothing listens on %s:%d in the peers' namespace" % (ip, port))

    def start_iapd(self, tap, flash, log_path, wrapper=(), extra=()):
        log = open(log_path, "w")
        p = self.procs.start(list(wrapper) + [self.a.iapd, "--foreground", "--tap", tap,
                                              "--flash", flash] + list(extra),
                             stdout=log, stderr=subprocess.STDOUT)
        p.log_path = log_path
        wait_log(log_path, READY_TFTP, p, 120 if wrapper else 20)
        wait_log(log_path, READY_HTTP, p, 120 if wrapper else 20)
        return p

    # one upload

    def client_argv(self, client, mode, host, image, http_target):
        remote = "app.bin"
        if client == "tftp-hpa":
            return ["tftp", "-m", "binary", host, "-c", "put", image, remote]
        if client == "curl" and mode in ("512", "1428"):
            return ["curl", "-sS", "--max-time", "60", "--tftp-blksize", mode, "-T", image,
                    "tftp://%s/%s" % (host, remote)]
        if client == "atftp":
            opts = []
            if mode != "512":
                opts += ["--option", "blksize 1428"]
            if mode == "1428+w16":
                opts += ["--option", "windowsize 16"]
            return ["atftp"] + opts + ["-p", "-l", image, "-r", remote, host]
        if client == "curl-put":
            argv = ["curl", "-sS", "-f", "--max-time", "60", "-o", "/dev/null", "-T", image]
            if http_target == "iapd":
                return argv + ["-u", "user:stm32", "http://%s/firmware" % host]
            return argv + ["http://%s/%s" % (host, remote)]
        raise ValueError(client)

    def upload(self, target, client, mode, label, account=True):
        """One upload, checked; returns its wall time in s. With account, adds the CPU time it
        cost iapd to self.cpu."""
        image = self.images[label]
        host = BOARD_IP if target == "iapd" else PEER_IP
        argv = ["timeout", "90"] + self.client_argv(client, mode, host, image, target)
        before_ns = cpu_ns(self.iapd.pid) if target == "iapd" else 0
        if target == "peer":
            # A new file each time, so that its size afterwards says this upload arrived.
            try:
                os.unlink(self.peer_path(client))
            except FileNotFoundError:
                pass
        t0 = time.monotonic()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        elapsed = time.monotonic() - t0
        out = r.stdout
        if r.returncode != 0 or re.search(r"rror|imeout|imed out", out):
            die("%s %s %s upload of %s to %s failed (exit %d): %s"
                % (client, mode, label, image, target, r.returncode, out.strip()))
        size = os.path.getsize(image)
        if target == "peer":
            got = self.peer_file_size(client, size)
            if got != size:
                die("%s %s upload to the peer left %s bytes, not %d" % (client, mode, got, size))
        elif account:
            # iapd logs the end of every upload before its last ACK or its answer leaves.
            c = self.cpu.setdefault(self.group(client, mode), [0, 0])
            c[0] += cpu_ns(self.iapd.pid) - before_ns
            c[1] += size
        return elapsed

    def peer_path(self, client):
        d = "peer/www" if client == "curl-put" else "peer/tftp"
        return os.path.join(self.work, d, "app.bin")

    def peer_file_size(self, client, want):
        """The size of the uploaded file, once it is want bytes or after 5 s."""
        deadline = time.monotonic() + 5
        got = None
        while time.monotonic() < deadline:
            try:
                got = os.path.getsize(self.peer_path(client))
            except FileNotFoundError:
                got = None
            if got == want:
                break
            time.sleep(0.005)
        return got

    @staticmethod
    def group(client, mode):
        if client == "curl-put":
            return "HTTP PUT"
        return "TFTP " + mode

    def warm_up(self):
        # ARP, page cache, the peers' first fork: one small upload each way, not timed.
        for target in ("iapd", "peer"):
            self.upload(target, "curl", "512", "64K")
            self.upload(target, "curl-put", "-", "64K")
        self.cpu.clear()

    # the side-by-side matrix

    def side_by_side(self):
        cases = [("TFTP", c, m) for c, m in TFTP_CASES] + [("HTTP PUT", "curl-put", "-")]
        done_before = count_in(self.iapd.log_path, "complete:")
        uploads = 0
        for proto, client, mode in cases:
            for label, _ in SIZES:
                times = {"iapd": [], "peer": []}
                # nginx works only on its own uploads: its CPU over the whole row (clock ticks)
                # is its. tftpd-hpa serves each transfer from a child whose time does not
                # reliably reach the parent's cutime (row deltas came out negative), so its CPU
                # is not measured.
                peer_root = self.nginx if client == "curl-put" else None
                if peer_root:
                    time.sleep(0.2)
                    peer_t0 = tree_ticks(peer_root.pid)
                for i in range(self.a.runs):
                    order = ("iapd", "peer") if i % 2 == 0 else ("peer", "iapd")
                    for target in order:
                        times[target].append(self.upload(target, client, mode, label))
                        uploads += target == "iapd"
                if peer_root:
                    time.sleep(0.2)
                    c = self.peer_cpu.setdefault(self.group(client, mode), [0, 0])
                    c[0] += tree_ticks(peer_root.pid) - peer_t0
                    c[1] += self.a.runs * os.path.getsize(self.images[label])
                row = (proto, client if client != "curl-put" else "curl", mode, label,
                       statistics.median(times["iapd"]), statistics.median(times["peer"]),
                       self.a.runs)
                self.rows.append(row)
                say("%-8s %-8s %-8s %-5s iapd %7.1f ms  peer %7.1f ms" %
                    (row[0], row[1], row[2], row[3], row[4] * 1e3, row[5] * 1e3))
        done = count_in(self.iapd.log_path, "complete:") - done_before
        if done != uploads:
            die("iapd logged %d completed uploads, the bench made %d" % (done, uploads))
        self.hwm_kib = status_kib(self.iapd.pid, "VmHWM")

    def idle(self):
        time.sleep(2)
        v0, n0 = ctxt_switches(self.iapd.pid)
        c0 = cpu_ns(self.iapd.pid)
        time.sleep(self.a.idle_s)
        v1, n1 = ctxt_switches(self.iapd.pid)
        c1 = cpu_ns(self.iapd.pid)
        self.idle_wakeups = (v1 - v0) / self.a.idle_s
        self.idle_nonvol = (n1 - n0) / self.a.idle_s
        self.idle_cpu_ms_s = (c1 - c0) / 1e6 / self.a.idle_s
        self.idle_rss = status_kib(self.iapd.pid, "VmRSS")
        self.idle_pss = pss_kib(self.iapd.pid)

    # instructions per MiB under callgrind

    def callgrind(self):
        rc = self.procs.stop(self.iapd)
        if rc != 0:
            die("iapd exited %s on SIGTERM, expected 0" % rc)
        modes = [("idle", None, None), ("TFTP 512", "curl", "512"),
                 ("TFTP 1428", "curl", "1428"), ("TFTP 1428+w16", "atftp", "1428+w16"),
                 ("HTTP PUT", "curl-put", "-")]
        totals = {}
        for name, client, mode in modes:
            out = os.path.join(self.work, "callgrind.%s.out" % name.replace(" ", "_"))
            wrapper = ["valgrind", "--tool=callgrind", "--dump-instr=no",
                       "--callgrind-out-file=" + out]
            # --key: the flash holds the uploaded application now; IAP mode all the same.
            p = self.start_iapd("tap0", os.path.join(self.work, "flash.bin"),
                                os.path.join(self.work, "iapd-callgrind.log"), wrapper,
                                ["--key"])
            self.iapd = p
            if client:
                self.upload("iapd", client, mode, "960K", account=False)
            rc = self.procs.stop(p, wait_s=60)
            if rc != 0:
                die("iapd under callgrind exited %s" % rc)
            totals[name] = callgrind_total(out)
        for name, _, _ in modes[1:]:
            self.instr[name] = (totals[name] - totals["idle"]) / (SIZES[-1][1] / MIB)
        self.iapd = None

    # 50 idle boards

    def boards(self):
        n = self.a.boards
        started = []
        for i in range(n):
            flash = os.path.join(self.work, "boards", "flash%d.bin" % i)
            log_path = os.path.join(self.work, "boards", "iapd%d.log" % i)
            log = open(log_path, "w")
            # Each board in a namespace of its own: `unshare -n` runs iapd in it, lo up first.
            p = self.procs.start(["unshare", "-n", "sh", "-c",
                                  'ip link set lo up && exec "$0" "$@"', self.a.iapd,
                                  "--foreground", "--tap", "tap0", "--flash", flash],
                                 stdout=log, stderr=subprocess.STDOUT)
            p.log_path = log_path
            started.append(p)
        for p in started:
            wait_log(p.log_path, READY_HTTP, p, 60)
        time.sleep(2)
        rss = [status_kib(p.pid, "VmRSS") for p in started]
        pss = [pss_kib(p.pid) for p in started]
        c0 = sum(cpu_ns(p.pid) for p in started)
        w0 = sum(ctxt_switches(p.pid)[0] for p in started)
        time.sleep(self.a.boards_idle_s)
        c1 = sum(cpu_ns(p.pid) for p in started)
        w1 = sum(ctxt_switches(p.pid)[0] for p in started)
        bad = []
        for p in started:
            if self.procs.stop(p) != 0:
                bad.append(p.pid)
        if bad:
            die("%d of the %d boards did not exit 0 on SIGTERM" % (len(bad), n))
        self.board_rss = statistics.mean(rss)
        self.board_rss_max = max(rss)
        self.board_pss = statistics.mean(pss)
        self.board_cpu_ms_s = (c1 - c0) / 1e6 / self.a.boards_idle_s
        self.board_wakeups = (w1 - w0) / self.a.boards_idle_s

    # the report

    def report(self, m0, m1, elapsed):
        out = self.lines
        p = out.append
        p("iapd bench: %s" % time.strftime("%Y-%m-%d %H:%M:%S %z"))
        p("machine: %s, %d cores, Linux %s; load average %s at start, %s at end"
          % (m0["cpu"], m0["cores"], m0["kernel"], m0["load"], m1["load"]))
        p("runs: %d interleaved per row (median); link: TAP (iapd) / veth, offloads %s (peers)"
          % (self.a.runs, "on" if self.a.veth_offloads else "off"))
        p("")
        p("%-8s %-8s %-8s %5s %10s %10s %7s" % ("proto", "client", "mode", "size",
                                               "iapd ms", "peer ms", "ratio"))
        for proto, client, mode, label, im, pm, _ in self.rows:
            note = ""
            if mode == "1428+w16":
                note = "  (tftpd-hpa: no windowsize, lock-step 1428)"
            p("%-8s %-8s %-8s %5s %10.1f %10.1f %7.2f%s" % (proto, client, mode, label,
                                                          im * 1e3, pm * 1e3, im / pm, note))
        p("peers: tftpd-hpa (in.tftpd -L -c -s, tmpfs), nginx %s (dav_methods PUT, tmpfs)"
          % nginx_version())
        p("")
        p("iapd CPU per MiB (schedstat, around its own uploads of the rows above):")
        for g in sorted(self.cpu):
            ns, b = self.cpu[g]
            pc = self.peer_cpu.get(g, [0, 0])
            peer = (" nginx %.1f ms/MiB (%d ms ticks)"
                    % (pc[0] * 1000 / CLK_TCK / (pc[1] / MIB), 1000 // CLK_TCK)
                    if pc[1] else "")
            p("  %-14s %6.1f ms/MiB  over %.1f MiB;%s" % (g, ns / 1e6 / (b / MIB), b / MIB, peer))
        p("iapd instructions per MiB (callgrind, one 960 KiB upload less an idle run):")
        for g in ("TFTP 512", "TFTP 1428", "TFTP 1428+w16", "HTTP PUT"):
            if g in self.instr:
                p("  %-14s %6.1f M" % (g, self.instr[g] / 1e6))
        p("iapd peak RSS (VmHWM after every upload above): %.1f MiB" % (self.hwm_kib / 1024))
        p("iapd idle: %.1f wake-ups/s (voluntary context switches over %d s), %.2f ms CPU/s, "
          "RSS %.1f MiB, PSS %.1f MiB" % (self.idle_wakeups, self.a.idle_s, self.idle_cpu_ms_s,
                                         self.idle_rss / 1024, self.idle_pss / 1024))
        p("%d idle boards, each in its own namespace: RSS %.2f MiB each (max %.2f), PSS %.2f "
          "MiB each; all together %.2f ms CPU/s (%.3f %% of one core), %.1f wake-ups/s"
          % (self.a.boards, self.board_rss / 1024, self.board_rss_max / 1024,
             self.board_pss / 1024, self.board_cpu_ms_s, self.board_cpu_ms_s / 10,
             self.board_wakeups))
        p("")
        p("targets:")
        for ok, text in self.targets():
            p("  %-4s %s" % ("PASS" if ok else "MISS", text))
        p("")
        p("make bench took %.0f s" % elapsed)

    def row(self, proto, client, mode, label):
        for r in self.rows:
            if r[:4] == (proto, client, mode, label):
                return r
        return None

    def targets(self):
        res = []
        worst = None
        for proto, client, mode, label, im, pm, _ in self.rows:
            if proto == "TFTP" and label == "960K" and mode in ("512", "1428"):
                if worst is None or im / pm > worst[0]:
                    worst = (im / pm, client, mode)
        if worst:
            res.append((worst[0] <= 1.0, "960K TFTP iapd/tftpd-hpa <= 1.0 for every client, "
                        "512 and 1428: worst %.2f (%s %s)" % worst))
        w = self.row("TFTP", "atftp", "1428+w16", "960K")
        l512 = self.row("TFTP", "atftp", "512", "960K")
        if w and l512:
            speed = l512[4] / w[4]
            res.append((speed >= 3.0, "960K blksize 1428 + windowsize 16 >= 3x iapd's lock-step "
                        "512 (atftp both): %.2fx" % speed))
        tftp = [(ns / 1e6 / (b / MIB), g) for g, (ns, b) in self.cpu.items()
                if g.startswith("TFTP")]
        if tftp:
            worst_cpu = max(tftp)
            res.append((worst_cpu[0] <= 25, "TFTP <= 25 ms CPU per MiB: worst %.1f (%s)"
                        % worst_cpu))
        if "HTTP PUT" in self.cpu:
            ns, b = self.cpu["HTTP PUT"]
            v = ns / 1e6 / (b / MIB)
            res.append((v <= 15, "HTTP PUT <= 15 ms CPU per MiB: %.1f" % v))
        r = self.row("HTTP PUT", "curl", "-", "960K")
        if r:
            res.append((r[4] / r[5] <= 1.5, "960K HTTP PUT <= 1.5x nginx: %.2fx" % (r[4] / r[5])))
        res.append((self.board_rss <= 5 * 1024, "<= 5 MiB RSS per idle board: %.2f MiB"
                    % (self.board_rss / 1024)))
        return res

    def teardown(self):
        self.procs.stop_all()
        if self.work:
            # Lazily: a process of ours may still be on its way out. The tmpfs goes with this
            # mount namespace anyway; the empty directory it was mounted on must go too.
            subprocess.run(["umount", "-l", self.work], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                os.rmdir(self.work)
            except OSError as e:
                say("could not remove %s: %s" % (self.work, e))


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    die("no totals in %s" % path)


def nginx_version():
    r = subprocess.run(["nginx", "-v"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return r.stdout.strip().split("/")[-1]


def check_tools():
    missing = [t for t in REQUIRED_TOOLS if subprocess.run(
        ["sh", "-c", 'command -v "$0"', t], stdout=subprocess.DEVNULL).returncode != 0]
    if missing:
        die("missing: %s (Debian: tftp-hpa atftp curl tftpd-hpa nginx-light valgrind ethtool "
            "iproute2; scripts/bootstrap.sh deps installs them)" % " ".join(missing), 2)
    r = subprocess.run(["tftp", "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if "tftp-hpa" not in r.stdout:
        die("'tftp' is not tftp-hpa's client: install tftp-hpa", 2)
    r = subprocess.run(["nginx", "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if "http_dav_module" not in r.stdout:
        die("this nginx has no dav module (PUT): install Debian's nginx-light or nginx", 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iapd", required=True)
    ap.add_argument("--mkimage", required=True)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    ap.add_argument("--boards", type=int, default=int(os.environ.get("BENCH_BOARDS", "50")))
    ap.add_argument("--idle-s", type=int, default=10)
    ap.add_argument("--boards-idle-s", type=int, default=20)
    ap.add_argument("--veth-offloads", action="store_true",
                    help="leave the veth's offloads on (the TAP has none)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args()
    args.iapd = os.path.abspath(args.iapd)
    args.mkimage = os.path.abspath(args.mkimage)
    if args.runs < 5 or args.runs > 51:
        die("--runs must be 5 to 51 (medians of at least 5)", 2)
    if not 1 <= args.boards <= 100:
        die("--boards must be 1 to 100", 2)

    here = os.readlink("/proc/self/ns/net")
    marker = os.environ.get(MARKER, "")
    if marker.split(":", 1)[0] != str(os.getpid()):
        if os.geteuid() != 0:
            die("make bench needs root (network namespaces, TAP devices, a tmpfs mount)", 2)
        for p in (args.iapd, args.mkimage):
            if not os.access(p, os.X_OK):
                die("%s is not built: run make first" % p, 2)
        check_tools()
        if not os.path.exists("/dev/net/tun"):
            die("/dev/net/tun is missing: iapd needs a TAP device", 2)
        os.environ[MARKER] = "%d:%s" % (os.getpid(), here)
        # exec keeps the PID: the re-run knows it is the one inside.
        os.execvp("unshare", ["unshare", "-n", "-m", "--propagation", "private",
                              sys.executable, os.path.abspath(__file__)] + sys.argv[1:])
    if marker.split(":", 1)[1] == here:
        die("still in the namespace the bench started in: refusing to run")
    del os.environ[MARKER]

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    t0 = time.monotonic()
    m0 = machine()
    b = Bench(args)
    try:
        say("setting up: namespaces, tmpfs, tftpd-hpa, nginx, iapd")
        b.setup()
        say("side by side: %d runs per row" % args.runs)
        b.side_by_side()
        say("idle: %d s" % args.idle_s)
        b.idle()
        if args.no_callgrind:
            b.procs.stop(b.iapd)
        else:
            say("callgrind: instructions per MiB")
            b.callgrind()
        say("%d idle boards, %d s" % (args.boards, args.boards_idle_s))
        b.boards()
        b.report(m0, machine(), time.monotonic() - t0)
    finally:
        b.teardown()
    text = "\n".join(b.lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
