"""asyncpg vs psycopg 3 through a pool, same PostgreSQL, same run (issue 19: choose the driver by numbers).

    eval "$(bash .ci/postgres.sh start)"; python bench/pg_drivers.py [--rows 3000] [--concurrency 16] [--rounds 3]

Each round, for each driver in turn (interleaved, so load drifts hit both): inserts shaped like the inbox's
(one row per transaction, `ON CONFLICT DO NOTHING RETURNING`), then reads by key, with `--concurrency` tasks
sharing a pool of 8 connections. Prints rows/s and the client's CPU per operation; the median round counts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import uuid

import asyncpg
import psycopg_pool
from _harness import timed

POOL = 8
DDL = (
    "CREATE TABLE IF NOT EXISTS bench_events (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE, session TEXT NOT NULL, text TEXT, envelope TEXT NOT NULL)"
)


async def run_asyncpg(dsn: str, rows: int, concurrency: int) -> dict[str, tuple[float, float]]:
    tag = uuid.uuid4().hex[:8]
    pool = await asyncpg.create_pool(dsn, min_size=POOL, max_size=POOL)
    try:

        async def insert(i: int) -> None:
            async with pool.acquire() as db:
                await db.fetchval(
                    "INSERT INTO bench_events (id, session, text, envelope) VALUES ($1, $2, $3, $4)"
                    " ON CONFLICT (id) DO NOTHING RETURNING seq",
                    f"a{tag}{i}",
                    "default",
                    "hello there",
                    '{"event":"message","payload":{"body":"hello there"}}',
                )

        async def read(i: int) -> None:
            async with pool.acquire() as db:
                await db.fetchrow("SELECT seq, session, text FROM bench_events WHERE id = $1", f"a{tag}{i}")

        return {"insert": await timed(rows, concurrency, insert), "read": await timed(rows, concurrency, read)}
    finally:
        await pool.close()


async def run_psycopg(dsn: str, rows: int, concurrency: int) -> dict[str, tuple[float, float]]:
    tag = uuid.uuid4().hex[:8]
    pool = psycopg_pool.AsyncConnectionPool(dsn, min_size=POOL, max_size=POOL, open=False)
    await pool.open(wait=True)
    try:

        async def insert(i: int) -> None:
            async with pool.connection() as db:
                cur = await db.execute(
                    "INSERT INTO bench_events (id, session, text, envelope) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (id) DO NOTHING RETURNING seq",
                    (f"p{tag}{i}", "default", "hello there", '{"event":"message","payload":{"body":"hello there"}}'),
                )
                await cur.fetchone()

        async def read(i: int) -> None:
            async with pool.connection() as db:
                cur = await db.execute("SELECT seq, session, text FROM bench_events WHERE id = %s", (f"p{tag}{i}",))
                await cur.fetchone()

        return {"insert": await timed(rows, concurrency, insert), "read": await timed(rows, concurrency, read)}
    finally:
        await pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("WAHA_MCP_TEST_PG"))
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.dsn:
        raise SystemExit('no PostgreSQL: pass --dsn or start one with: eval "$(bash .ci/postgres.sh start)"')
    setup = await asyncpg.connect(args.dsn)
    await setup.execute(DDL)
    await setup.close()
    results: dict[str, list[dict[str, tuple[float, float]]]] = {"asyncpg": [], "psycopg": []}
    for _ in range(args.rounds):
        results["asyncpg"].append(await run_asyncpg(args.dsn, args.rows, args.concurrency))
        results["psycopg"].append(await run_psycopg(args.dsn, args.rows, args.concurrency))
    setup = await asyncpg.connect(args.dsn)
    await setup.execute("DROP TABLE bench_events")
    await setup.close()
    print(f"{args.rows} rows, {args.concurrency} tasks, pool of {POOL}, median of {args.rounds} rounds")
    print(f"{'driver':8} {'op':6} {'ops/s':>8} {'client CPU µs/op':>17}")
    for driver, rounds in results.items():
        for op in ("insert", "read"):
            rate = statistics.median(r[op][0] for r in rounds)
            cpu = statistics.median(r[op][1] for r in rounds)
            print(f"{driver:8} {op:6} {rate:8.0f} {cpu:17.0f}")


if __name__ == "__main__":
    asyncio.run(main())
