"""Peer: a hash-chained audit table in SQLite (Python's stdlib sqlite3), as a team would build it.

Each row holds the event and SHA-256(prev hash || row fields); journal_mode=WAL, synchronous=FULL.
Modes, on the first N events of the JSON-lines file the benchmark exported:
  single: one durable transaction per event (read the last hash, insert, commit);
  batch:  1,000 events per durable transaction;
  verify: walk the whole table in seq order, recomputing every hash and link.
Prints one JSON object on stdout.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import time

SCHEMA = """CREATE TABLE audit(
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    stream TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev BLOB NOT NULL,
    hash BLOB NOT NULL)"""

INSERT = "INSERT INTO audit(seq, time, actor, stream, type, payload, prev, hash) VALUES (?,?,?,?,?,?,?,?)"
ZERO = bytes(32)


def load(path, n):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(rows) >= n:
                break
            r = json.loads(line)
            payload = json.dumps(r["event"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            rows.append((r["seq"], r["time_us"], r["actor"], r["stream"], r["type"], payload))
    return rows


def row_hash(prev, seq, t, actor, stream, typ, payload):
    h = hashlib.sha256(prev)
    h.update(f"{seq}|{t}|{actor}|{stream}|{typ}|".encode())
    h.update(payload.encode())
    return h.digest()


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def fresh(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = connect(path)
    conn.execute(SCHEMA)
    return conn


def size(path):
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))


def single(rows, path):
    conn = fresh(path)
    start = time.perf_counter()
    for seq, t, actor, stream, typ, payload in rows:
        conn.execute("BEGIN IMMEDIATE")
        last = conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev = last[0] if last else ZERO
        conn.execute(INSERT, (seq, t, actor, stream, typ, payload, prev, row_hash(prev, seq, t, actor, stream, typ, payload)))
        conn.execute("COMMIT")
    secs = time.perf_counter() - start
    conn.close()
    return secs


def batch(rows, path):
    conn = fresh(path)
    prev = ZERO
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), 1000):
        out = []
        for seq, t, actor, stream, typ, payload in rows[i : i + 1000]:
            h = row_hash(prev, seq, t, actor, stream, typ, payload)
            out.append((seq, t, actor, stream, typ, payload, prev, h))
            prev = h
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT, out)
        conn.execute("COMMIT")
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sync = conn.execute("PRAGMA synchronous").fetchone()[0]
    conn.close()
    return secs, cpu, sync


def verify(path):
    conn = connect(path)
    start, cpu = time.perf_counter(), time.process_time()
    prev, expected, n = ZERO, None, 0
    for seq, t, actor, stream, typ, payload, link, h in conn.execute("SELECT * FROM audit ORDER BY seq"):
        if expected is not None and seq != expected:
            raise SystemExit(f"gap at {seq}")
        if link != prev or row_hash(prev, seq, t, actor, stream, typ, payload) != h:
            raise SystemExit(f"bad row {seq}")
        prev, expected, n = h, seq + 1, n + 1
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return secs, cpu, n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--events", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--batch", type=int, required=True, help="events for batched inserts and verify")
    p.add_argument("--single", type=int, required=True, help="events for durable single inserts")
    a = p.parse_args()
    rows = load(a.events, max(a.batch, a.single))
    out = {"sqlite_version": sqlite3.sqlite_version}
    path = os.path.join(a.dir, "single.sqlite")
    s = rows[: a.single]
    out["single_events"] = len(s)
    out["single_secs"] = single(s, path)
    path = os.path.join(a.dir, "batch.sqlite")
    b = rows[: a.batch]
    out["batch_events"] = len(b)
    out["batch_secs"], out["batch_cpu_secs"], out["synchronous"] = batch(b, path)
    out["batch_bytes"] = size(path)
    out["verify_secs"], out["verify_cpu_secs"], out["verify_events"] = verify(path)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
