#!/usr/bin/env python3
"""Figures of `--data-dir` that only a separate process shows, checked against the issue's
targets: a 5 GiB PUT and GET with the server's peak RSS at most 64 MiB above idle, and a cold
start with 100k objects on disk in at most 200 ms.

    python3 tests/crash/figures.py [--size-gib 5] [--objects 100000] [--bin target/release/s3twin]

Traffic goes to 127.0.0.1 only. Exits non-zero when a target is missed.
"""

import argparse
import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

MIB = 1024 * 1024


def start(binary, data):
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "--port", "0", "--data-dir", data, "--request-log-size", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("s3twin listening on "):
        proc.kill()
        raise SystemExit(f"server did not start: {proc.stderr.read()}")
    host, port = line.split()[-1].split("//")[1].split(":")
    addr = (host, int(port))
    # Ready when the first request is answered.
    while True:
        try:
            c = http.client.HTTPConnection(*addr, timeout=5)
            c.request("GET", "/_s3twin/health")
            c.getresponse().read()
            break
        except OSError:
            time.sleep(0.001)
    return proc, addr, (time.perf_counter() - t0) * 1000


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def big_object(binary, size):
    data = tempfile.mkdtemp(prefix="s3twin-big-")
    try:
        proc, addr, _ = start(binary, data)
        c = http.client.HTTPConnection(*addr, timeout=600)
        c.request("PUT", "/big", headers={"Content-Length": "0"})
        c.getresponse().read()
        time.sleep(0.5)
        idle = status_kib(proc.pid, "VmRSS")
        chunk = os.urandom(MIB)
        digest = hashlib.md5()
        c.putrequest("PUT", "/big/object")
        c.putheader("Content-Length", str(size))
        c.endheaders()
        t0 = time.perf_counter()
        sent = 0
        while sent < size:
            piece = chunk[: min(MIB, size - sent)]
            c.send(piece)
            digest.update(piece)
            sent += len(piece)
        r = c.getresponse()
        body = r.read()
        put_s = time.perf_counter() - t0
        assert r.status == 200, body
        assert r.getheader("ETag").strip('"') == digest.hexdigest(), "ETag is the MD5"
        put_peak = status_kib(proc.pid, "VmHWM")
        c.request("GET", "/big/object")
        r = c.getresponse()
        t0 = time.perf_counter()
        got = hashlib.md5()
        n = 0
        while True:
            b = r.read(4 * MIB)
            if not b:
                break
            got.update(b)
            n += len(b)
        get_s = time.perf_counter() - t0
        assert n == size and got.hexdigest() == digest.hexdigest(), "GET returns the bytes"
        peak = status_kib(proc.pid, "VmHWM")
        proc.kill()
        proc.wait()
        gib = size / (1024 * MIB)
        print(f"{gib:g} GiB PUT: {size / MIB / put_s:.0f} MiB/s, GET: {size / MIB / get_s:.0f} MiB/s; "
              f"RSS idle {idle / 1024:.1f} MiB, peak after PUT {put_peak / 1024:.1f} MiB, "
              f"after GET {peak / 1024:.1f} MiB ({(peak - idle) / 1024:.1f} MiB above idle)")
        return (peak - idle) / 1024 <= 64
    finally:
        shutil.rmtree(data, ignore_errors=True)


def cold_start(binary, objects):
    data = tempfile.mkdtemp(prefix="s3twin-cold-")
    try:
        proc, addr, _ = start(binary, data)
        c = http.client.HTTPConnection(*addr, timeout=30)
        c.request("PUT", "/many", headers={"Content-Length": "0"})
        c.getresponse().read()
        errors = []

        def load(w, n):
            conn = http.client.HTTPConnection(*addr, timeout=30)
            for i in range(w, objects, n):
                body = b"x" * (i % 100)
                conn.request("PUT", f"/many/p{i % 100:03}/k{i:07}", body=body,
                             headers={"Content-Length": str(len(body))})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
                    return
        t0 = time.perf_counter()
        threads = [threading.Thread(target=load, args=(w, 8)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        load_s = time.perf_counter() - t0
        proc.kill()
        proc.wait()
        times = []
        for _ in range(5):
            proc, addr, ms = start(binary, data)
            times.append(ms)
            rss = status_kib(proc.pid, "VmRSS")
            c = http.client.HTTPConnection(*addr, timeout=30)
            c.request("GET", "/many?list-type=2&max-keys=1&prefix=p042/")
            r = c.getresponse()
            text = r.read()
            assert r.status == 200 and b"<KeyCount>1</KeyCount>" in text
            proc.terminate()
            proc.wait()
        times.sort()
        med = times[len(times) // 2]
        print(f"{objects} objects loaded in {load_s:.1f} s; cold start with them: median {med:.0f} ms "
              f"(of {', '.join(f'{t:.0f}' for t in times)}), RSS {rss / 1024:.1f} MiB")
        return med <= 200
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=float, default=5)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                 "target", "release", "s3twin"))
    args = ap.parse_args()
    ok = big_object(args.bin, int(args.size_gib * 1024 * MIB))
    ok &= cold_start(args.bin, args.objects)
    print("targets met" if ok else "a target was missed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
