#!/usr/bin/env python3
"""End-to-end and scale benchmarks of the newsd binary against examples/loadgen (issue 11).

Called by benches/run.sh (e2e | scale); python3 standard library only. Every process it
starts is bounded in time and stopped before it returns. newsd's own CPU is measured (wait4
rusage of the child, or /proc/PID/stat over a window), never the server's.

  load.py e2e   --newsd BIN --loadgen BIN --out DIR [--corpus FILE] [--profile]
  load.py scale --newsd BIN --loadgen BIN --out DIR [--feeds 1000,10000,100000]
                [--modes conditional,unchanged200] [--profile-feeds N]
  load.py hotspots --data perf.data    # self time per module + top functions
"""
import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Loadgen:
    """The synthetic web: started with its args, ready when web.json appears, stopped by PID."""

    def __init__(self, binary, out, args, ready_timeout=600):
        os.makedirs(out, exist_ok=True)
        self.out = out
        self.errlog = open(os.path.join(out, "loadgen.log"), "w")
        self.proc = subprocess.Popen([binary, "--out", out] + [str(a) for a in args],
                                     stdout=subprocess.DEVNULL, stderr=self.errlog)
        path = os.path.join(out, "web.json")
        deadline = time.time() + ready_timeout
        while not os.path.exists(path):
            if self.proc.poll() is not None:
                raise SystemExit(f"loadgen exited ({self.proc.returncode}); see {out}/loadgen.log")
            if time.time() > deadline:
                self.stop()
                raise SystemExit("loadgen not ready in time")
            time.sleep(0.2)
        self.web = json.load(open(path))
        self.config = self.web["config"]
        self.cpu_at_ready = self.cpu()

    def stats(self):
        with urllib.request.urlopen(f"http://{self.web['control']}/stats", timeout=10) as r:
            return json.load(r)

    def cpu(self):
        """The server's own CPU seconds so far (to show it is not the bottleneck)."""
        return proc_cpu(self.proc.pid)

    def stop(self):
        terminate(self.proc, 20)
        self.errlog.close()


def terminate(proc, timeout):
    """SIGTERM (if it still runs), then SIGKILL after `timeout` seconds; waits for the exit."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_waited(cmd, timeout, stdout=subprocess.DEVNULL, stderr=None, env=None):
    """Runs cmd to completion (killed after timeout); returns (status, wall s, rusage)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, time.monotonic() - t0, ru
        if time.monotonic() > deadline:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            return "killed (timeout)", time.monotonic() - t0, ru
        time.sleep(0.05)


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def apparent(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def newsd_env():
    env = dict(os.environ)
    for k in ("NEWSD_CONFIG", "NEWSD_DATA_DIR"):
        env.pop(k, None)
    env["NEWSD_LOG_FORMAT"] = "json"
    return env


def strace_cmd(path):
    """Counts every thread's syscalls (`strace -c -f`); slows newsd, so its CPU is not reported."""
    return ["strace", "-f", "-c", "-o", path, "--"]


def strace_counts(path):
    """{syscall: calls} from a `strace -c` summary."""
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[-1].isidentifier() and f[3].isdigit():
            out[f[-1]] = int(f[3])
    return out


def proc_ctxt(pid):
    """Voluntary + involuntary context switches of every thread of a running process."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def perf_cmd(data):
    return ["perf", "record", "-F", "199", "--call-graph", "dwarf,8192", "-o", data, "--"]


def e2e(a):
    out = os.path.abspath(a.out)
    subprocess.run(["rm", "-rf", out], check=True)
    os.makedirs(out)
    pages = os.path.join(out, "pages")
    gen = ["--hosts", a.hosts, "--feeds", a.feeds, "--items", a.items, "--copies", a.copies,
           "--dump", pages, "--exit-after", a.timeout + 600]
    if a.corpus:
        gen += ["--corpus", a.corpus]
    log(f"e2e: generating {a.feeds} feeds x {a.items} items on {a.hosts} hosts (pages dumped to {pages})")
    admin = None
    if a.run:
        admin = f"127.0.0.1:{free_port()}"
        gen += ["--admin-listen", admin]
    lg = Loadgen(a.loadgen, os.path.join(out, "web"), gen)
    data = os.path.join(out, "data")
    try:
        if a.run:
            status, wall, cpu, rss, report, ctxt = e2e_run(a, lg, data, admin, out)
            sys_cpu = None
        else:
            cmd = [a.newsd, "--config", lg.config, "--data-dir", data, "once", "--json"]
            if a.profile:
                cmd = perf_cmd(os.path.join(out, "perf-e2e.data")) + cmd
            if a.strace:
                cmd = strace_cmd(os.path.join(out, "strace.txt")) + cmd
            log(f"e2e: {' '.join(cmd)}")
            with open(os.path.join(out, "newsd.log"), "w") as errf:
                status, wall, ru = run_waited(cmd, a.timeout, stderr=errf, env=newsd_env())
            cpu, rss = ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024
            sys_cpu = ru.ru_stime
            ctxt = ru.ru_nvcsw + ru.ru_nivcsw
            report = None
            for line in open(os.path.join(out, "newsd.log")):
                try:
                    v = json.loads(line)
                except ValueError:
                    continue
                if isinstance(v, dict) and "feeds_polled" in v:
                    report = v
        stats, server_cpu = lg.stats(), lg.cpu()
    finally:
        lg.stop()
    if status != 0 or report is None:
        raise SystemExit(f"newsd failed ({status}); see {out}/newsd.log")
    done = report["stored"] + report["duplicates"]
    log("e2e: newsd clean --batch over the same pages")
    clean_out = os.path.join(out, "clean")
    cstatus, cwall, cru = run_waited([a.newsd, "clean", "--batch", pages, clean_out], a.timeout,
                                     stderr=subprocess.DEVNULL, env=newsd_env())
    if cstatus != 0:
        raise SystemExit(f"newsd clean --batch failed ({cstatus})")
    rows = list(csv.DictReader(open(os.path.join(clean_out, "timings.csv"))))
    ex_cpu = sum(float(r["cpu_seconds"]) for r in rows)
    ex_per_page = ex_cpu / len(rows)
    store = du(data)
    res = {
        "newsd": a.newsd,
        "pages_served": stats["page_200"],
        "expected_originals": lg.web["originals"],
        "expected_copies": lg.web["copies"],
        "report": report,
        "wall_s": round(wall, 2),
        "articles_per_s_wall": round(done / wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_article": round(cpu * 1000 / done, 3),
        "system_cpu_ms_per_article": round(sys_cpu * 1000 / done, 3) if sys_cpu is not None else None,
        "extract_cpu_ms_per_page": round(ex_per_page * 1000, 3),
        "extract_process_cpu_ms_per_page": round((cru.ru_utime + cru.ru_stime) * 1000 / len(rows), 3),
        "ratio_cpu_per_article_to_extraction": round(cpu / done / ex_per_page, 2),
        "command": "run" if a.run else "once",
        "loadgen_cpu_s_serving": round(server_cpu - lg.cpu_at_ready, 2),
        "peak_rss_mib": round(rss, 1),
        "store_bytes_on_disk": store,
        "store_bytes_apparent": apparent(data),
        "store_bytes_per_stored_article": round(store / max(report["stored"], 1)),
        "ctxt_switches_per_article": round(ctxt / done, 2) if ctxt is not None else None,
        "profiled": bool(a.profile),
    }
    in_daemon_row = ""
    if report.get("extract_cpu_s") and report.get("pages_extracted"):
        in_daemon = report["extract_cpu_s"] / report["pages_extracted"]
        res["daemon_extract_cpu_ms_per_page"] = round(in_daemon * 1000, 3)
        res["ratio_daemon_extraction_to_clean"] = round(in_daemon / ex_per_page, 2)
        res["ratio_cpu_per_article_to_daemon_extraction"] = round(cpu / done / in_daemon, 2)
        in_daemon_row = (
            "\n| extraction inside the daemon (page threads, `newsd_extract_cpu_seconds_total`) | "
            f"{res['daemon_extract_cpu_ms_per_page']:.3f} ms/page "
            f"({res['ratio_daemon_extraction_to_clean']:.2f}× `clean --batch`); CPU per article ÷ it "
            f"**{res['ratio_cpu_per_article_to_daemon_extraction']:.2f}×** |")
    if a.strace:
        counts = strace_counts(os.path.join(out, "strace.txt"))
        res["strace"] = {k: counts.get(k, 0) for k in ("futex", "sync_file_range", "pwrite64",
                                                       "epoll_wait", "sched_yield")}
        res["strace_total_calls"] = sum(counts.values())
    failed = f", failed {report['failed']}" if report.get("failed") is not None else ""
    json.dump(res, open(os.path.join(out, "e2e.json"), "w"), indent=2)
    print(json.dumps(res, indent=2))
    print(f"""
| `newsd {"run" if a.run else "once"}` | value |
|---|---|
| articles stored + recorded | {report['stored']} + {report['duplicates']} (expected {lg.web['originals']} + {lg.web['copies']}); rejected {report['rejected']}{failed} |
| wall | {wall:.1f} s → **{done / wall:.0f} articles/s** |
| newsd CPU | {cpu:.1f} s → **{cpu * 1000 / done:.2f} ms/article** |
| extraction only (`clean --batch`, in-process) | {ex_per_page * 1000:.3f} ms/page |
| CPU per article ÷ extraction | **{cpu / done / ex_per_page:.2f}×** |{in_daemon_row}
| context switches | {res["ctxt_switches_per_article"]} per article |
| peak RSS | {rss:.0f} MiB |
| store on disk | {store / 1e6:.1f} MB → **{store / max(report['stored'], 1) / 1024:.1f} KiB/stored article** |""")


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metrics(admin):
    """newsd's /metrics as {name{labels}: value}."""
    with urllib.request.urlopen(f"http://{admin}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def e2e_run(a, lg, data, admin, out):
    """The e2e pass in `newsd run`: done when every page the web has is stored, recorded as
    a copy or rejected (admin /metrics); CPU and RSS read from /proc at that moment."""
    cmd = [a.newsd, "--config", lg.config, "--data-dir", data, "run"]
    log(f"e2e: {' '.join(cmd)}")
    errf = open(os.path.join(out, "newsd.log"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, env=newsd_env())
    status, report = "timeout", None
    try:
        while time.monotonic() - t0 < a.timeout:
            if p.poll() is not None:
                status = f"exited {p.returncode}"
                break
            time.sleep(0.25)
            try:
                m = metrics(admin)
            except OSError:
                continue
            stored = m.get("newsd_articles_stored_total", 0)
            dups = m.get("newsd_duplicates_total", 0)
            rejected = m.get("newsd_pages_rejected_total", 0)
            if stored + dups + rejected >= lg.web["pages"]:
                wall, cpu, rss = time.monotonic() - t0, proc_cpu(p.pid), proc_hwm_mib(p.pid)
                ctxt = proc_ctxt(p.pid)
                status = 0
                report = {"stored": int(stored), "duplicates": int(dups), "rejected": int(rejected),
                          "failed": None, "feeds_polled": None,
                          # Extraction's own CPU inside the daemon (page threads, decode +
                          # extract), against the same work alone in `clean --batch`.
                          "extract_cpu_s": m.get("newsd_extract_cpu_seconds_total"),
                          "pages_extracted": m.get("newsd_extract_duration_seconds_count")}
                break
    finally:
        terminate(p, 60)
        errf.close()
    if report is None:
        return status, 0, 0, 0, None, None
    return status, wall, cpu, rss, report, ctxt


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def scale_one(a, n, mode):
    out = os.path.abspath(os.path.join(a.out, f"scale-{mode}-{n}"))
    subprocess.run(["rm", "-rf", out], check=True)
    interval = max(1, n // a.rate)
    limit = a.warmup + a.window + 120
    gen = ["--hosts", a.hosts, "--feeds", n, "--items", a.items, "--gone-pages",
           "--feed-mode", mode, "--interval-secs", interval, "--exit-after", limit]
    lg = Loadgen(a.loadgen, os.path.join(out, "web"), gen)
    errf = open(os.path.join(out, "newsd.log"), "w")
    cmd = [a.newsd, "--config", lg.config, "--data-dir", os.path.join(out, "data"), "run"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, env=newsd_env())
    perf = None
    res = {"feeds": n, "mode": mode, "interval_s": interval, "items_per_feed": a.items}
    try:
        t_start = time.monotonic()
        first_pass = None
        while time.monotonic() - t_start < a.warmup:
            if p.poll() is not None:
                raise SystemExit(f"newsd run exited ({p.returncode}); see {out}/newsd.log")
            if lg.stats()["feeds_polled_once"] >= n:
                first_pass = time.monotonic() - t_start
                break
            time.sleep(0.5)
        # Let the first pass's tail (page fetches, writes) settle before the window opens.
        time.sleep(min(5, interval))
        res["first_pass_s"] = round(first_pass, 1) if first_pass is not None else None
        s0, c0, t0 = lg.stats(), proc_cpu(p.pid), time.monotonic()
        sc0 = lg.cpu()
        if a.profile_feeds == n:
            perf = subprocess.Popen(perf_cmd(os.path.join(out, "perf.data"))[:-1] + ["-p", str(p.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(a.window)
        s1, c1, t1 = lg.stats(), proc_cpu(p.pid), time.monotonic()
        res["loadgen_cpu_s_in_window"] = round(lg.cpu() - sc0, 2)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
        polls = s1["feed_polls"] - s0["feed_polls"]
        res.update({
            "feeds_polled_in_warmup": s0["feeds_polled_once"],
            "window_s": round(t1 - t0, 1),
            "polls_in_window": polls,
            "polls_304": s1["feed_304"] - s0["feed_304"],
            "polls_200": s1["feed_200"] - s0["feed_200"],
            "page_requests": (s1["page_gone"] + s1["page_200"]) - (s0["page_gone"] + s0["page_200"]),
            "polls_per_s": round(polls / (t1 - t0), 1),
            "cpu_s": round(c1 - c0, 2),
            "cpu_ms_per_poll": round((c1 - c0) * 1000 / polls, 3) if polls else None,
            "cpu_cores_busy": round((c1 - c0) / (t1 - t0), 2),
            "peak_rss_mib": round(proc_hwm_mib(p.pid), 1),
        })
    finally:
        terminate(p, 60)
        errf.close()
        lg.stop()
    log(json.dumps(res))
    return res


def scale(a):
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for mode in a.modes.split(","):
        for n in [int(x) for x in a.feeds.split(",")]:
            rows.append(scale_one(a, n, mode))
    json.dump(rows, open(os.path.join(a.out, "scale.json"), "w"), indent=2)
    print("| feeds | answers | first pass | polls in window (304/200) | polls/s | CPU ms/poll | cores busy | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        fp = f"{r['first_pass_s']} s" if r["first_pass_s"] is not None else \
            f"not done in {a.warmup} s ({r['feeds_polled_in_warmup']} feeds)"
        print(f"| {r['feeds']} | {r['mode']} | {fp} | {r['polls_in_window']} ({r['polls_304']}/{r['polls_200']}) | "
              f"{r['polls_per_s']} | {r['cpu_ms_per_poll']} | {r['cpu_cores_busy']} | {r['peak_rss_mib']} |")


# Symbol (or DSO) patterns → the module the time is charged to, first match wins.
GROUPS = [
    ("kernel", ("[kernel", "[unknown]", "entry_SYSCALL", "__x64_sys")),
    ("sled", ("sled::",)),
    ("malloc/free/memcpy", ("malloc", "free", "memcpy", "memmove", "memset", "realloc",
                            "calloc", "_int_", "cfree", "alloc::raw_vec", "__rust_dealloc",
                            "__rust_alloc", "__rdl_", "memcmp", "__memc")),
    ("language detection (whatlang)", ("whatlang::",)),
    ("HTML parse (html5ever/scraper/markup5ever)", ("html5ever::", "markup5ever", "scraper::",
                                                    "tendril::", "selectors::", "cssparser")),
    ("newsd::extract", ("newsd::extract",)),
    ("newsd::dedup", ("newsd::dedup",)),
    ("newsd::schedule/daemon", ("newsd::daemon", "newsd::schedule")),
    ("newsd::pipeline", ("newsd::pipeline",)),
    ("newsd::store", ("newsd::store",)),
    ("newsd::fetch", ("newsd::fetch",)),
    ("newsd::feed + feed-rs/quick-xml", ("newsd::feed", "feed_rs", "quick_xml", "xml::")),
    ("newsd (other)", ("newsd::",)),
    ("unicode normalisation", ("unicode_normalization",)),
    ("hashing (xxhash, SipHash)", ("xxhash", "xxh3", "siphash", "Hasher", "hash::")),
    ("url", ("url::", "idna::")),
    ("tracing/serde_json", ("tracing", "serde_json", "serde::")),
    ("tokio/hyper/reqwest/futex", ("tokio::", "hyper", "reqwest", "h2::", "futex",
                                   "parking_lot", "std::sync", "pthread", "syscall")),
    ("compression", ("flate2", "miniz", "brotli")),
    ("regex", ("regex",)),
]


# Time spent here is charged again to the first module up the stack (who called malloc,
# whose syscall or futex the kernel served).
LEAF_GROUPS = ("kernel", "malloc/free/memcpy", "tokio/hyper/reqwest/futex", "hashing (xxhash, SipHash)")


def hotspots(a):
    """Self time per module and the top functions of a perf.data file."""
    rep = subprocess.run(["perf", "report", "-i", a.data, "--no-children", "--sort", "dso,sym",
                          "--stdio", "-g", "none", "--percent-limit", "0"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in rep.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "%" not in line.split()[0]:
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        pct = float(parts[0].rstrip("%"))
        dso, sym = parts[1], parts[2]
        sym = sym.split("] ", 1)[1] if sym.startswith("[") and "] " in sym else sym
        rows.append((pct, dso, sym))
    groups = {}
    for pct, dso, sym in rows:
        key = f"{dso} {sym}"
        name = next((g for g, pats in GROUPS if any(p in key for p in pats)), "other")
        groups[name] = groups.get(name, 0) + pct
    # With call graphs: each sample is charged to the innermost frame that names a module,
    # so generic code (hashbrown, core, alloc) counts for the module that called it.
    scr = subprocess.run(["perf", "script", "--no-inline", "-i", a.data, "-F", "ip,sym,dso"],
                         capture_output=True, text=True).stdout
    near, via, samples, frames = {}, {}, 0, []

    def flush():
        nonlocal samples
        if not frames:
            return
        samples += 1
        named = [g for g in (next((g for g, pats in GROUPS if any(p in f for p in pats)), None)
                             for f in frames) if g]
        name = named[0] if named else "other"
        near[name] = near.get(name, 0) + 1
        if name in LEAF_GROUPS:
            caller = next((g for g in named if g not in LEAF_GROUPS), "other")
            via[(name, caller)] = via.get((name, caller), 0) + 1
        frames.clear()

    for line in scr.splitlines():
        if not line.strip():
            flush()
        else:
            frames.append(line.strip().split(None, 1)[-1])
    flush()
    print("| module | self % | nearest module on the stack % |\n|---|---|---|")
    names = set(groups) | set(near)
    for g in sorted(names, key=lambda g: -(near.get(g, 0) / max(samples, 1) * 100 or groups.get(g, 0))):
        n = near.get(g, 0) * 100 / max(samples, 1)
        if groups.get(g, 0) >= 0.5 or n >= 0.5:
            print(f"| {g} | {groups.get(g, 0):.1f} | {n:.1f} |")
    print(f"\n({samples} samples with stacks)\n")
    print("| leaf time | called from | % of all samples |\n|---|---|---|")
    for (leaf, caller), n in sorted(via.items(), key=lambda x: -x[1]):
        if n * 100 / samples >= 0.5:
            print(f"| {leaf} | {caller} | {n * 100 / samples:.1f} |")
    print(f"\nTop {a.top} functions (self %):\n")
    print("| self % | dso | function |\n|---|---|---|")
    for pct, dso, sym in rows[:a.top]:
        print(f"| {pct:.1f} | {dso} | `{sym[:110]}` |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["e2e", "scale", "hotspots"])
    ap.add_argument("--data", help="hotspots: the perf.data file")
    ap.add_argument("--top", type=int, default=25, help="hotspots: functions listed")
    ap.add_argument("--newsd")
    ap.add_argument("--loadgen")
    ap.add_argument("--out")
    ap.add_argument("--corpus")
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--feeds", default=None, help="e2e: feed count; scale: comma list")
    ap.add_argument("--items", type=int, default=None)
    ap.add_argument("--copies", type=float, default=0.12)
    ap.add_argument("--timeout", type=int, default=1200, help="e2e: bound of each newsd run (s)")
    ap.add_argument("--profile", action="store_true", help="e2e: run newsd under perf record")
    ap.add_argument("--strace", action="store_true",
                    help="e2e: run newsd once under strace -c -f (syscall counts; its CPU is then not comparable)")
    ap.add_argument("--run", action="store_true", help="e2e: measure `newsd run` instead of `newsd once`")
    ap.add_argument("--modes", default="conditional,unchanged200")
    ap.add_argument("--rate", type=int, default=1000, help="scale: offered polls/s (interval = feeds/rate)")
    ap.add_argument("--warmup", type=int, default=150, help="scale: longest wait for the first pass (s)")
    ap.add_argument("--window", type=int, default=30, help="scale: measured window (s)")
    ap.add_argument("--profile-feeds", type=int, default=0, help="scale: perf record the window at this feed count")
    a = ap.parse_args()
    if a.mode == "hotspots":
        return hotspots(a)
    if not (a.newsd and a.loadgen and a.out):
        ap.error("--newsd, --loadgen and --out are required")
    a.newsd = os.path.abspath(a.newsd)
    a.loadgen = os.path.abspath(a.loadgen)
    if a.mode == "e2e":
        a.feeds = int(a.feeds or 1000)
        a.items = a.items or 10
        e2e(a)
    else:
        a.feeds = a.feeds or "1000,10000,100000"
        a.items = 2 if a.items is None else a.items
        scale(a)


if __name__ == "__main__":
    main()
