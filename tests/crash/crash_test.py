#!/usr/bin/env python3
"""Crash test of `--data-dir`: concurrent PUTs and multipart uploads against the release
binary, SIGKILL at a random moment, restart on the same directory, then check that every
acknowledged object is there byte for byte, that an unacknowledged write is either absent
or whole (never half-written), and that nothing unknown is listed.

    python3 tests/crash/crash_test.py [--rounds 20] [--seed 1] [--bin target/release/s3twin]

Rounds share one data directory, so later rounds also re-read what earlier ones wrote.
Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
"""

import argparse
import hashlib
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BUCKET = "crash"
POLICIES = ["batch", "always", "never"]


def start(binary, data, policy):
    proc = subprocess.Popen(
        [binary, "--port", "0", "--data-dir", data, "--fsync", policy,
         "--request-log-size", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("s3twin listening on "):
            host, port = line.split()[-1].split("//")[1].split(":")
            return proc, (host, int(port))
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"server did not start: {proc.stderr.read()}")


def request(conn, method, path, body=b""):
    conn.request(method, path, body=body, headers={"Content-Length": str(len(body))})
    resp = conn.getresponse()
    return resp.status, resp.read()


class Load:
    """Writers that note what they send (in flight) and what was acknowledged."""

    def __init__(self, addr, rnd, round_no):
        self.addr = addr
        self.lock = threading.Lock()
        self.acked = {}       # key -> sha256 hex
        self.in_flight = {}   # key -> sha256 hex of what was being written
        self.stop = False
        self.round_no = round_no
        self.seeds = [rnd.getrandbits(32) for _ in range(6)]

    def worker(self, n):
        rnd = random.Random(self.seeds[n])
        conn = http.client.HTTPConnection(*self.addr, timeout=10)
        i = 0
        try:
            while not self.stop and i < 10_000:
                i += 1
                key = f"r{self.round_no}/w{n}/{i}"
                if rnd.random() < 0.2:
                    self.multipart(conn, rnd, key)
                else:
                    size = rnd.choice([0, 1, 100, 4096, 70_000, 300_000, 1_500_000])
                    body = rnd.randbytes(size)
                    digest = hashlib.sha256(body).hexdigest()
                    with self.lock:
                        self.in_flight[key] = digest
                    status, _ = request(conn, "PUT", f"/{BUCKET}/{key}", body)
                    if status == 200:
                        with self.lock:
                            self.acked[key] = self.in_flight.pop(key)
        except (OSError, http.client.HTTPException):
            pass  # the server was killed

    def multipart(self, conn, rnd, key):
        status, text = request(conn, "POST", f"/{BUCKET}/{key}?uploads")
        if status != 200:
            return
        upload = re.search(rb"<UploadId>([^<]+)</UploadId>", text).group(1).decode()
        parts, whole = [], b""
        for number in range(1, rnd.randint(2, 3) + 1):
            data = rnd.randbytes(rnd.choice([5, 60_000, 400_000]))
            status, _ = request(conn, "PUT",
                                f"/{BUCKET}/{key}?partNumber={number}&uploadId={upload}", data)
            if status != 200:
                return
            parts.append((number, hashlib.md5(data).hexdigest()))
            whole += data
        doc = "<CompleteMultipartUpload>" + "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>\"{e}\"</ETag></Part>" for n, e in parts
        ) + "</CompleteMultipartUpload>"
        digest = hashlib.sha256(whole).hexdigest()
        with self.lock:
            self.in_flight[key] = digest
        status, text = request(conn, "POST", f"/{BUCKET}/{key}?uploadId={upload}", doc.encode())
        if status == 200 and b"<Error>" not in text:
            with self.lock:
                self.acked[key] = self.in_flight.pop(key)


def listed_keys(conn):
    keys, token = [], None
    for _ in range(10_000):
        path = f"/{BUCKET}?list-type=2&max-keys=1000"
        if token:
            path += "&continuation-token=" + urllib.parse.quote(token, safe="")
        status, text = request(conn, "GET", path)
        assert status == 200, text
        keys += [k.decode() for k in re.findall(rb"<Key>([^<]*)</Key>", text)]
        m = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", text)
        if not m:
            return keys
        token = m.group(1).decode()
    raise AssertionError("listing did not end")


def check(addr, acked, maybe, sample):
    """Every key in `sample` of `acked` reads back exactly; keys of `maybe` are absent or
    whole; the listing holds every acknowledged key and nothing unknown."""
    conn = http.client.HTTPConnection(*addr, timeout=30)
    listed = set(listed_keys(conn))
    missing = [k for k in acked if k not in listed]
    assert not missing, f"acknowledged objects missing after restart: {missing[:5]}"
    unknown = [k for k in listed if k not in acked and k not in maybe]
    assert not unknown, f"unknown objects listed: {unknown[:5]}"
    for key in sample:
        status, body = request(conn, "GET", f"/{BUCKET}/{key}")
        assert status == 200, (key, status)
        assert hashlib.sha256(body).hexdigest() == acked[key], f"{key}: wrong bytes"
    half = 0
    for key, digest in maybe.items():
        status, body = request(conn, "GET", f"/{BUCKET}/{key}")
        if status == 404:
            continue
        assert status == 200, (key, status)
        assert hashlib.sha256(body).hexdigest() == digest, f"{key}: half-written object visible"
        half += 1
    conn.close()
    return half


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                 "target", "release", "s3twin"))
    ap.add_argument("--budget", type=float, default=90.0, help="seconds for all rounds")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    data = tempfile.mkdtemp(prefix="s3twin-crash-")
    started = time.time()
    acked, maybe = {}, {}
    proc = None
    try:
        proc, addr = start(args.bin, data, "batch")
        conn = http.client.HTTPConnection(*addr, timeout=10)
        assert request(conn, "PUT", f"/{BUCKET}")[0] == 200
        conn.close()
        for r in range(args.rounds):
            policy = POLICIES[r % len(POLICIES)]
            if r > 0:
                proc, addr = start(args.bin, data, policy)
                sample = rnd.sample(sorted(acked), min(len(acked), 200))
                # The last round's acknowledged writes are all read back.
                sample = sorted(set(sample) | set(last_round))
                came_back = check(addr, acked, maybe, sample)
                print(f"round {r:2}: restart ok ({policy}): {len(acked)} objects acknowledged, "
                      f"{len(maybe)} in flight at the kill ({came_back} complete, rest absent), "
                      f"{len(sample)} read back", flush=True)
                # What was in flight and came back whole now counts as written.
                conn = http.client.HTTPConnection(*addr, timeout=10)
                listed = set(listed_keys(conn))
                conn.close()
                for k, d in maybe.items():
                    if k in listed:
                        acked[k] = d
                maybe = {}
            load = Load(addr, rnd, r)
            threads = [threading.Thread(target=load.worker, args=(n,)) for n in range(6)]
            for t in threads:
                t.start()
            time.sleep(rnd.uniform(0.2, 1.5))
            proc.kill()  # SIGKILL
            proc.wait()
            load.stop = True
            for t in threads:
                t.join(timeout=15)
            acked.update(load.acked)
            maybe.update(load.in_flight)
            last_round = list(load.acked)
            if time.time() - started > args.budget:
                raise AssertionError(f"over the time budget after {r + 1} rounds")
        proc, addr = start(args.bin, data, "batch")
        came_back = check(addr, acked, maybe, sorted(last_round))
        # No body file outlives what names it: delete everything, restart, find none.
        conn = http.client.HTTPConnection(*addr, timeout=30)
        for key in listed_keys(conn):
            assert request(conn, "DELETE", f"/{BUCKET}/{key}")[0] == 204
        status, text = request(conn, "GET", f"/{BUCKET}?uploads")
        uploads = re.findall(rb"<Key>([^<]*)</Key>\s*<UploadId>([^<]+)</UploadId>", text)
        for key, upload in uploads:
            path = f"/{BUCKET}/{key.decode()}?uploadId={upload.decode()}"
            assert request(conn, "DELETE", path)[0] == 204
        conn.close()
        proc.kill()
        proc.wait()
        proc, addr = start(args.bin, data, "batch")
        left = os.listdir(os.path.join(data, "bodies"))
        assert not left, f"{len(left)} body files left after everything was deleted"
        proc.kill()
        proc.wait()
        print(f"crash test: {args.rounds} rounds (seed {args.seed}), {len(acked)} acknowledged "
              f"objects intact, {len(uploads)} uploads left open by kills aborted, no body file left, "
              f"in {time.time() - started:.1f} s")
        print(f"{args.rounds} passed, 0 failed")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"crash test FAILED: {e}", file=sys.stderr)
        sys.exit(1)
