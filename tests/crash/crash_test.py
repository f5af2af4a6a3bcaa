#!/usr/bin/env python3
"""Crash test of `--data-dir`: concurrent PUTs and multipart uploads against the release
binary, SIGKILL at a random moment, restart on the same directory, then check that every
acknowledged object is there byte for byte, that an unacknowledged write is either absent
or whole (never half-written), and that nothing unknown is listed. Writers also overwrite
and delete their earlier keys (small bodies live in shared pack files, so this leaves dead
slots to reclaim): an unacknowledged overwrite or delete leaves the old or the new state,
never a mix. At the end the body files use no more disk than the live bytes (plus a block
per object), and none is left once everything is deleted.

Most rounds (`rewrite_round`) lower the journal's rewrite thresholds with the server's test
knobs (`S3TWIN_JOURNAL_REWRITE_*`) so that background rewrites run back to back while the
writers overwrite and delete, and kills land during them: a round whose kill left
`journal.next` (a rewrite not yet put in place) is counted, and a run of 8 or more such
rounds that never killed one fails. After every restart the data dir holds nothing but
FORMAT, LOCK, the journal and the body files.

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


# A rewrite as soon as the journal holds more records than live entities (past 100), looked
# at every 20 ms: with thousands of live keys each rewrite takes milliseconds, so most of a
# round's time is spent inside one.
REWRITE_KNOBS = {
    "S3TWIN_JOURNAL_REWRITE_FLOOR": "100",
    "S3TWIN_JOURNAL_REWRITE_RATIO": "1",
    "S3TWIN_JOURNAL_REWRITE_CHECK_MS": "20",
}
# The data dir's own entries (`journal.next`, a rewrite cut short, is removed at start).
DATA_DIR_ENTRIES = {"FORMAT", "LOCK", "journal", "bodies"}


def rewrite_round(r):
    """Whether round `r` runs with the rewrite knobs (three of four rounds, across the fsync
    policies; the others keep the defaults, under which these rounds never rewrite)."""
    return r % 4 != 3


def start(binary, data, policy, log, knobs=False):
    """Starts the server; its log (stderr) goes to the file `log`, appended."""
    env = dict(os.environ)
    for k in REWRITE_KNOBS:
        env.pop(k, None)
    if knobs:
        env.update(REWRITE_KNOBS)
    with open(log, "a") as err:
        proc = subprocess.Popen(
            [binary, "--port", "0", "--data-dir", data, "--fsync", policy,
             "--request-log-size", "0"],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("s3twin listening on "):
            host, port = line.split()[-1].split("//")[1].split(":")
            return proc, (host, int(port))
        if proc.poll() is not None:
            break
    proc.kill()
    with open(log) as f:
        raise SystemExit(f"server did not start: {f.read()[-2000:]}")


def rewrites_logged(log):
    """Background rewrites put in place, as the server logs them."""
    with open(log) as f:
        return sum(1 for line in f if "journal rewritten" in line)


def check_entries(data):
    extra = set(os.listdir(data)) - DATA_DIR_ENTRIES
    assert not extra, f"files left in the data dir after a restart: {sorted(extra)}"


def request(conn, method, path, body=b""):
    conn.request(method, path, body=body, headers={"Content-Length": str(len(body))})
    resp = conn.getresponse()
    return resp.status, resp.read()


class Load:
    """Writers that note what they send (in flight) and what was acknowledged."""

    def __init__(self, addr, rnd, round_no):
        self.addr = addr
        self.lock = threading.Lock()
        self.acked = {}       # key -> (sha256 hex, size); None: deleted
        self.in_flight = {}   # key -> (sha256 hex, size) being written; None: being deleted
        self.mine = [[] for _ in range(6)]  # each worker's acknowledged keys
        self.dead = 0  # bytes of bodies overwritten or deleted (for the disk check to reclaim)
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
                roll = rnd.random()
                if roll < 0.15 and self.mine[n]:
                    # An earlier key deleted: its slot or file becomes dead.
                    old = self.mine[n].pop(rnd.randrange(len(self.mine[n])))
                    with self.lock:
                        self.in_flight[old] = None
                    status, _ = request(conn, "DELETE", f"/{BUCKET}/{old}")
                    if status == 204:
                        with self.lock:
                            self.dead += self.acked[old][1]
                            self.acked[old] = self.in_flight.pop(old)
                    continue
                if roll < 0.35 and self.mine[n]:
                    # An earlier key overwritten (the same key again below).
                    key = self.mine[n].pop(rnd.randrange(len(self.mine[n])))
                if roll > 0.8:
                    self.multipart(conn, rnd, key, n)
                else:
                    size = rnd.choice([0, 1, 100, 4096, 4096, 70_000, 300_000, 1_500_000])
                    body = rnd.randbytes(size)
                    with self.lock:
                        self.in_flight[key] = (hashlib.sha256(body).hexdigest(), size)
                    status, _ = request(conn, "PUT", f"/{BUCKET}/{key}", body)
                    if status == 200:
                        with self.lock:
                            self.dead += (self.acked.get(key) or ("", 0))[1]
                            self.acked[key] = self.in_flight.pop(key)
                        self.mine[n].append(key)
        except (OSError, http.client.HTTPException):
            pass  # the server was killed

    def multipart(self, conn, rnd, key, n):
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
        with self.lock:
            self.in_flight[key] = (hashlib.sha256(whole).hexdigest(), len(whole))
        status, text = request(conn, "POST", f"/{BUCKET}/{key}?uploadId={upload}", doc.encode())
        if status == 200 and b"<Error>" not in text:
            with self.lock:
                self.dead += (self.acked.get(key) or ("", 0))[1]
                self.acked[key] = self.in_flight.pop(key)
            self.mine[n].append(key)


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
    """Every key in `sample` of `acked` reads back exactly; each key of `maybe` shows one of
    the states it may have (`None`: absent); the listing holds every acknowledged key and
    nothing unknown. Returns what the keys of `maybe` turned out to be."""
    conn = http.client.HTTPConnection(*addr, timeout=30)
    listed = set(listed_keys(conn))
    live = {k for k, v in acked.items() if v is not None}
    missing = [k for k in live if k not in listed and k not in maybe]
    assert not missing, f"acknowledged objects missing after restart: {missing[:5]}"
    unknown = [k for k in listed if k not in live and k not in maybe]
    assert not unknown, f"unknown (or deleted) objects listed: {unknown[:5]}"
    for key in sample:
        if key in maybe or acked.get(key) is None:
            continue
        status, body = request(conn, "GET", f"/{BUCKET}/{key}")
        assert status == 200, (key, status)
        assert hashlib.sha256(body).hexdigest() == acked[key][0], f"{key}: wrong bytes"
    found = {}
    for key, states in maybe.items():
        status, body = request(conn, "GET", f"/{BUCKET}/{key}")
        if status == 404:
            assert None in states, f"{key}: acknowledged object missing after restart"
            found[key] = None
            continue
        assert status == 200, (key, status)
        got = (hashlib.sha256(body).hexdigest(), len(body))
        assert got in states, f"{key}: half-written object visible"
        found[key] = got
    conn.close()
    return found


def disk_use(data):
    """Bytes of disk the body files take (holes punched out of packs do not count)."""
    bodies = os.path.join(data, "bodies")
    return sum(os.stat(os.path.join(bodies, f)).st_blocks * 512 for f in os.listdir(bodies))


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
    log = data + ".log"
    started = time.time()
    knob_rounds, killed_mid_rewrite, rewrites = 0, 0, 0
    acked, maybe = {}, {}
    dead = 0
    proc = None
    try:
        proc, addr = start(args.bin, data, "batch", log, rewrite_round(0))
        conn = http.client.HTTPConnection(*addr, timeout=10)
        assert request(conn, "PUT", f"/{BUCKET}")[0] == 200
        conn.close()
        for r in range(args.rounds):
            policy = POLICIES[r % len(POLICIES)]
            knobs = rewrite_round(r)
            if r > 0:
                proc, addr = start(args.bin, data, policy, log, knobs)
                check_entries(data)
                sample = rnd.sample(sorted(acked), min(len(acked), 200))
                # The last round's acknowledged writes are all read back.
                sample = sorted(set(sample) | set(last_round))
                found = check(addr, acked, maybe, sample)
                came_back = sum(1 for k, v in found.items() if v is not None)
                print(f"round {r:2}: restart ok ({policy}): {len(acked)} keys acknowledged, "
                      f"{len(maybe)} in flight at the kill ({came_back} present, rest absent), "
                      f"{len(sample)} read back", flush=True)
                # What the writes in flight left is now the state.
                acked.update(found)
                maybe = {}
            logged = rewrites_logged(log)
            load = Load(addr, rnd, r)
            threads = [threading.Thread(target=load.worker, args=(n,)) for n in range(6)]
            for t in threads:
                t.start()
            time.sleep(rnd.uniform(0.2, 1.5))
            proc.kill()  # SIGKILL
            proc.wait()
            # Looked at before the next start removes it.
            mid_rewrite = os.path.exists(os.path.join(data, "journal.next"))
            done = rewrites_logged(log) - logged
            rewrites += done
            if knobs:
                knob_rounds += 1
                killed_mid_rewrite += mid_rewrite
                print(f"round {r:2}: {done} background rewrites, killed "
                      f"{'during one' if mid_rewrite else 'between them'}", flush=True)
            load.stop = True
            for t in threads:
                t.join(timeout=15)
            for key, new in load.in_flight.items():
                # Either the state before the write (acknowledged earlier) or after it.
                maybe[key] = {load.acked.get(key, acked.get(key)), new}
            dead += load.dead
            acked.update(load.acked)
            for key in load.in_flight:
                acked.pop(key, None)
            last_round = list(load.acked)
            if time.time() - started > args.budget:
                raise AssertionError(f"over the time budget after {r + 1} rounds")
        proc, addr = start(args.bin, data, "batch", log)
        check_entries(data)
        acked.update(check(addr, acked, maybe, sorted(last_round)))
        live = {k: v for k, v in acked.items() if v is not None}
        # Uploads left open by kills are aborted, then a crash start reclaims what a kill
        # kept from being reclaimed: what is left on disk is the live bodies'.
        conn = http.client.HTTPConnection(*addr, timeout=30)
        status, text = request(conn, "GET", f"/{BUCKET}?uploads")
        uploads = re.findall(rb"<Key>([^<]*)</Key>\s*<UploadId>([^<]+)</UploadId>", text)
        for key, upload in uploads:
            path = f"/{BUCKET}/{key.decode()}?uploadId={upload.decode()}"
            assert request(conn, "DELETE", path)[0] == 204
        conn.close()
        proc.kill()
        proc.wait()
        proc, addr = start(args.bin, data, "batch", log)
        live_bytes = sum(size for _, size in live.values())
        used = disk_use(data)
        # A slot or file takes whole 4 KiB blocks (a MiB more for the file system's
        # preallocation); the bodies overwritten or deleted take none.
        allowed = live_bytes + 4096 * len(live) + 1024 * 1024
        assert used <= allowed, f"body files use {used} bytes for {live_bytes} live ({len(live)} objects)"
        print(f"disk: {used} bytes used by body files for {live_bytes} live bytes in "
              f"{len(live)} objects ({dead} bytes overwritten or deleted)")
        # No body file outlives what names it: delete everything, restart, find none.
        conn = http.client.HTTPConnection(*addr, timeout=30)
        for key in listed_keys(conn):
            assert request(conn, "DELETE", f"/{BUCKET}/{key}")[0] == 204
        conn.close()
        proc.kill()
        proc.wait()
        proc, addr = start(args.bin, data, "batch", log)
        check_entries(data)
        left = os.listdir(os.path.join(data, "bodies"))
        assert not left, f"{len(left)} body files left after everything was deleted"
        proc.kill()
        proc.wait()
        print(f"crash test: {args.rounds} rounds (seed {args.seed}), {len(live)} acknowledged "
              f"objects intact, {len(uploads)} uploads left open by kills aborted, no body file left, "
              f"in {time.time() - started:.1f} s")
        print(f"journal: {rewrites} background rewrites put in place; {killed_mid_rewrite} of "
              f"{knob_rounds} rounds with the rewrite knobs killed during a rewrite")
        if knob_rounds >= 8:
            assert killed_mid_rewrite > 0, (
                f"no kill landed during a background rewrite in {knob_rounds} rounds")
        print(f"{args.rounds} passed, 0 failed")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)
        if os.path.exists(log):
            os.remove(log)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"crash test FAILED: {e}", file=sys.stderr)
        sys.exit(1)
