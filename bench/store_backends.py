"""The store's two backends through the domain interfaces, same run: SQLite file vs PostgreSQL.

    eval "$(bash .ci/postgres.sh start)"; python bench/store_backends.py [--n 2000] [--concurrency 16] [--rounds 3]

Per backend, interleaved by round: inbox adds (one event per call, as a webhook delivers them), inbox reads
(`query` by chat, 20 rows), audit rows (`start` then queued `finish`, flushed), pacing slots (`reserve` +
`fire` on 50 sessions, with a rule that always grants). Operations/s and this process's CPU µs per operation
(the PostgreSQL server's own CPU is not counted; SQLite's work is all in this process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _harness import timed

from waha_mcp.store import AuditStart, NewEvent, Query, Slot, Store, open_store


def new_event(tag: str, i: int) -> NewEvent:
    chat = f"{i % 100}@c.us"
    envelope = json.dumps({"id": f"{tag}{i}", "event": "message", "payload": {"body": "hello there", "from": chat}})
    return NewEvent(f"{tag}{i}", i, "default", "message", chat, chat, f"m{i}", "hello there", None, False, None,
                    "webhook", envelope)  # fmt: skip


async def measure(store: Store, n: int, concurrency: int) -> dict[str, tuple[float, float]]:
    tag = uuid.uuid4().hex[:8]
    out = {}
    out["inbox add"] = await timed(n, concurrency, lambda i: store.inbox.add([new_event(tag, i)], 0, None))
    out["inbox read"] = await timed(
        n, concurrency, lambda i: store.inbox.query(Query(chat=f"{i % 100}@c.us", limit=20))
    )

    async def audited(i: int) -> None:
        row = await store.audit.start(AuditStart(time.time(), "default", "waha_send_message", "1@c.us", "{}", None))
        store.audit.finish(row, time.time(), "ok", None, f"m{i}")

    out["audit start+finish"] = await timed(n, concurrency, audited)
    await store.flush()

    async def paced(i: int) -> None:
        session = f"{tag}-{i % 50}"
        _, rows = await store.pacing.reserve(session, "send", [f"{i}@c.us"], clock=time.time, keep=120, cap=12,
                                             decide=lambda v: Slot(v.now, False, v.now, True))  # fmt: skip
        await store.pacing.fire(session, "send", rows, clock=time.time, cap=12, decide=lambda v: 0.0)

    out["pacing reserve+fire"] = await timed(n // 2, concurrency, paced)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("WAHA_MCP_TEST_PG"))
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.dsn:
        raise SystemExit('no PostgreSQL: pass --dsn or start one with: eval "$(bash .ci/postgres.sh start)"')
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        import asyncpg

        admin = await asyncpg.connect(args.dsn)
        await admin.execute(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in args.dsn else "?"
        stores = {
            "sqlite": open_store(str(Path(tmp) / "bench.sqlite3")),
            "postgres": open_store(f"{args.dsn}{sep}search_path={schema}"),
        }
        results: dict[str, list[dict[str, tuple[float, float]]]] = {name: [] for name in stores}
        try:
            for _ in range(args.rounds):
                for name, store in stores.items():
                    results[name].append(await measure(store, args.n, args.concurrency))
        finally:
            for store in stores.values():
                store.close()
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
            await admin.close()
    print(f"{args.n} operations, {args.concurrency} tasks, median of {args.rounds} rounds")
    print(f"{'operation':20} {'sqlite ops/s':>12} {'µs CPU':>7} {'postgres ops/s':>15} {'µs CPU':>7}")
    for op in results["sqlite"][0]:
        cells = []
        for name in stores:
            cells.append(statistics.median(r[op][0] for r in results[name]))
            cells.append(statistics.median(r[op][1] for r in results[name]))
        print(f"{op:20} {cells[0]:12.0f} {cells[1]:7.0f} {cells[2]:15.0f} {cells[3]:7.0f}")


if __name__ == "__main__":
    asyncio.run(main())
