"""Peer: the Python `eventsourcing` library on its SQLite persistence (PERSISTENCE_MODULE=eventsourcing.sqlite).

One aggregate per stream (the ledger, each actor, area, source and item); each event of the exported
log becomes one aggregate event carrying its type and payload. Aggregates are kept in memory between
commands, so an append is one `save` (one SQLite transaction), never a reload.
Modes, on the first N events of the JSON-lines file the benchmark exported:
  single: one `save` per event;
  batch:  one `save` of 1,000 events;
  replay: read the application's notification log from the start and fold every event into its
          aggregate (what a projection or a rebuild does).
Prints one JSON object on stdout.
"""

import argparse
import json
import os
import sqlite3
import time
import uuid

NS = uuid.UUID("6f0b1c8e-3b1a-4c55-9a43-0d7c1f0e2a61")


def load(path, n):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(rows) >= n:
                break
            r = json.loads(line)
            rows.append((r["stream"], r["type"], r["actor"], r["event"]))
    return rows


from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate, event  # noqa: E402


class Stream(Aggregate):
    @staticmethod
    def create_id(name):
        return uuid.uuid5(NS, name)

    @event("Opened")
    def __init__(self, name, kind, actor, payload):
        self.name = name
        self.events = 1
        self.status = payload.get("status")
        self.last = payload

    @event("Appended")
    def append(self, kind, actor, payload):
        self.events += 1
        if kind == "StatusChanged":
            self.status = payload["to"]
        self.last = payload


class Ledger(Application):
    pass


def make_app(db):
    os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
    os.environ["SQLITE_DBNAME"] = db
    return Ledger(), Stream


def fresh(db):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    return make_app(db)


def apply(aggs, Stream, row):
    stream, typ, actor, payload = row
    agg = aggs.get(stream)
    if agg is None:
        agg = Stream(stream, typ, actor, payload)
        aggs[stream] = agg
    else:
        agg.append(typ, actor, payload)
    return agg


def single(rows, db):
    app, Stream = fresh(db)
    aggs = {}
    start = time.perf_counter()
    for row in rows:
        app.save(apply(aggs, Stream, row))
    secs = time.perf_counter() - start
    app.close()
    return secs


def batch(rows, db):
    app, Stream = fresh(db)
    aggs = {}
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), 1000):
        touched = {}
        for row in rows[i : i + 1000]:
            agg = apply(aggs, Stream, row)
            touched[id(agg)] = agg
        app.save(*touched.values())
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    app.close()
    return secs, cpu


def replay(db):
    app, _ = make_app(db)
    aggs = {}
    n = 0
    start, cpu = time.perf_counter(), time.process_time()
    last = 0
    while True:
        page = app.recorder.select_notifications(last + 1, 1000)
        if not page:
            break
        for notification in page:
            e = app.mapper.to_domain_event(notification)
            aggs[e.originator_id] = e.mutate(aggs.get(e.originator_id))
            n += 1
        last = page[-1].id
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    app.close()
    return secs, cpu, n, len(aggs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--events", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--batch", type=int, required=True, help="events for batched appends and replay")
    p.add_argument("--single", type=int, required=True, help="events for single appends")
    a = p.parse_args()
    from importlib.metadata import version

    rows = load(a.events, max(a.batch, a.single))
    out = {"eventsourcing_version": version("eventsourcing")}
    db = os.path.join(a.dir, "single.sqlite")
    s = rows[: a.single]
    out["single_events"] = len(s)
    out["single_secs"] = single(s, db)
    conn = sqlite3.connect(db)
    out["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    db = os.path.join(a.dir, "batch.sqlite")
    b = rows[: a.batch]
    out["batch_events"] = len(b)
    out["batch_secs"], out["batch_cpu_secs"] = batch(b, db)
    out["batch_bytes"] = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    out["replay_secs"], out["replay_cpu_secs"], out["replay_events"], out["replay_aggregates"] = replay(db)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
