#!/usr/bin/env python3
"""Cluster-mode benchmark (issue 14): N `newsd run` workers over one loadgen web through a
local nats-server with JetStream, and the committer alone over a full candidates stream.

Called by `benches/run.sh cluster`; python3 standard library only (plus load.py beside it).
Every process it starts is stopped before it returns.

  cluster.py --newsd BIN --loadgen BIN --out DIR [--corpus FILE] [--workers 1,2,3]
             [--hosts 50 --feeds 500 --items 10 --copies 0.12]

For each worker count: a fresh web and a fresh NATS; the workers start together; done when
the articles stream holds a decision for every page the web has and no candidate waits
(`newsd cluster status`). Reported: articles per second (wall, from the workers' start),
the workers' CPU (all processes, /proc), CPU per article. Then the committer alone: two
workers that may not commit (`cluster.committer = false`) fill the candidates stream; one
worker with no feeds is started and times how fast it decides the backlog.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import Loadgen, free_port, log, newsd_env, perf_cmd, proc_cpu, terminate  # noqa: E402


class Nats:
    def __init__(self, out):
        os.makedirs(out, exist_ok=True)
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.log = open(os.path.join(out, "nats.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", os.path.join(out, "js")],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 20
        while "Server is ready" not in open(os.path.join(out, "nats.log")).read():
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"nats-server did not start; see {out}/nats.log")
            time.sleep(0.1)

    def stop(self):
        terminate(self.proc, 20)
        self.log.close()


def worker_config(lg, nats, name, committer=True, feeds=True):
    text = open(lg.config).read()
    if not feeds:
        text = text.replace('feed_files = ["feeds.txt"]', "feed_files = []")
    text += (f'\n[cluster]\nnats_url = "{nats.url}"\nname = "bench"\npartitions = 64\n'
             f'lease_secs = 6\nnode = "{name}"\ncommitter = {"true" if committer else "false"}\n')
    path = os.path.join(lg.out, f"{name}.toml")
    open(path, "w").write(text)
    return path


class Worker:
    def __init__(self, binary, config, data, logpath, prefix=()):
        self.errf = open(logpath, "w")
        self.proc = subprocess.Popen(list(prefix) + [binary, "--config", config, "--data-dir", data, "run"],
                                     stdout=subprocess.DEVNULL, stderr=self.errf, env=newsd_env())

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def stop(self):
        terminate(self.proc, 60)
        self.errf.close()


def status(newsd, config):
    out = subprocess.run([newsd, "--config", config, "--data-dir", "/nonexistent-status",
                          "cluster", "status", "--json"],
                         capture_output=True, env=newsd_env(), timeout=60)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def web(a, out):
    gen = ["--hosts", a.hosts, "--feeds", a.feeds, "--items", a.items, "--copies", a.copies,
           "--exit-after", a.timeout + 600]
    if a.corpus:
        gen += ["--corpus", a.corpus]
    return Loadgen(a.loadgen, out, gen)


def wait_until(newsd, config, done, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s = status(newsd, config)
        if s is not None and done(s):
            return s
        time.sleep(0.5)
    raise SystemExit(f"{what}: not done in {timeout} s")


def run_workers(a, n):
    out = os.path.abspath(os.path.join(a.out, f"workers-{n}"))
    shutil.rmtree(out, ignore_errors=True)
    nats = Nats(os.path.join(out, "nats"))
    lg = web(a, os.path.join(out, "web"))
    pages = lg.web["pages"]
    workers = []
    try:
        configs = [worker_config(lg, nats, f"w{i}") for i in range(n)]
        t0 = time.monotonic()
        for i, c in enumerate(configs):
            workers.append(Worker(a.newsd, c, os.path.join(out, f"data-w{i}"),
                                  os.path.join(out, f"w{i}.log")))
        s = wait_until(a.newsd, configs[0],
                       lambda s: s["articles_last_seq"] >= pages and s["lag"] == 0,
                       a.timeout, f"{n} workers")
        wall = time.monotonic() - t0
        cpu = sum(w.cpu() for w in workers)
    finally:
        for w in workers:
            w.stop()
        lg.stop()
        nats.stop()
    row = {"workers": n, "pages": pages, "decisions": s["articles_last_seq"], "wall_s": round(wall, 2),
           "articles_per_s": round(pages / wall, 1), "cpu_s": round(cpu, 2),
           "cpu_ms_per_article": round(1000 * cpu / pages, 3)}
    log(f"cluster: {row}")
    return row


def committer_alone(a):
    out = os.path.abspath(os.path.join(a.out, "committer"))
    shutil.rmtree(out, ignore_errors=True)
    nats = Nats(os.path.join(out, "nats"))
    lg = web(a, os.path.join(out, "web"))
    pages = lg.web["pages"]
    fillers, committer = [], None
    try:
        configs = [worker_config(lg, nats, f"f{i}", committer=False) for i in range(2)]
        for i, c in enumerate(configs):
            fillers.append(Worker(a.newsd, c, os.path.join(out, f"data-f{i}"),
                                  os.path.join(out, f"f{i}.log")))
        s = wait_until(a.newsd, configs[0], lambda s: s["candidates_last_seq"] >= pages,
                       a.timeout, "filling the candidates stream")
        # Let the fillers finish their last polls, then stop them: the committer runs alone.
        time.sleep(3)
        for w in fillers:
            w.stop()
        backlog = status(a.newsd, configs[0])["candidates_last_seq"]
        cfg = worker_config(lg, nats, "committer", feeds=False)
        t0 = time.monotonic()
        prefix = perf_cmd(os.path.join(out, "perf-committer.data")) if a.profile else ()
        committer = Worker(a.newsd, cfg, os.path.join(out, "data-committer"),
                           os.path.join(out, "committer.log"), prefix)
        s = wait_until(a.newsd, cfg, lambda s: s["lag"] == 0 and s["decided_candidate"] >= backlog,
                       a.timeout, "the committer")
        wall = time.monotonic() - t0
        cpu = committer.cpu()
    finally:
        for w in fillers:
            w.stop()
        if committer:
            committer.stop()
        lg.stop()
        nats.stop()
    row = {"candidates": backlog, "wall_s": round(wall, 2), "candidates_per_s": round(backlog / wall, 1),
           "cpu_s": round(cpu, 2), "cpu_ms_per_candidate": round(1000 * cpu / backlog, 3)}
    log(f"committer alone: {row}")
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--newsd", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--workers", default="1,2,3")
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--copies", type=float, default=0.12)
    ap.add_argument("--timeout", type=int, default=1200)
    ap.add_argument("--profile", action="store_true",
                    help="record the committer-alone phase with perf (then load.py hotspots)")
    a = ap.parse_args()
    a.newsd, a.loadgen = os.path.abspath(a.newsd), os.path.abspath(a.loadgen)
    rows = [run_workers(a, int(n)) for n in a.workers.split(",") if n]
    alone = committer_alone(a)
    res = {"workers": rows, "committer_alone": alone}
    json.dump(res, open(os.path.join(a.out, "cluster.json"), "w"), indent=2)
    print("| workers | articles (pages) | wall | articles/s | CPU (all workers) | CPU per article |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['pages']} | {r['wall_s']} s | {r['articles_per_s']} | "
              f"{r['cpu_s']} s | {r['cpu_ms_per_article']} ms |")
    print(f"\ncommitter alone: {alone['candidates']} candidates in {alone['wall_s']} s = "
          f"{alone['candidates_per_s']} candidates/s, {alone['cpu_ms_per_candidate']} ms CPU each")


if __name__ == "__main__":
    main()
