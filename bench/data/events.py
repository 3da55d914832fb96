"""The import benchmark's input: a JSONL file of contract events, in time order.

    python -m bench.data.events --events 1000000 --out bench/datasets/import-1000000.jsonl

Uses the project's demo generator (`member360.demo_events.generate_demo_events`) when it
exists; otherwise the benchmark simulator in events mode: members are simulated in chunks
(each chunk's events sorted by time into a temporary file), the chunk files are merged into
one time-ordered stream after the catalog events, and the stream is cut at exactly `--events`
lines (a prefix of a valid stream is valid: events only refer to earlier ones). Memory stays
bounded by one chunk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import importlib.util
import itertools
import math
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from bench.common import DATA, TIME_ZONE
from bench.data.simulate import Simulator, catalog_events


def _simulated(events: int, members: int | None, days: int, seed: int) -> Iterator[bytes]:
    tz = ZoneInfo(TIME_ZONE)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=days)
    # About 40 points events and 30 other events per member over a year.
    members = members or max(100, events // 60)
    sim = Simulator(org_id=0, tz=tz, now=now, days=days, mean_activities=40, seed=seed, events=True)
    with tempfile.TemporaryDirectory(prefix="m360-events-") as tmp:
        files: list[Path] = []
        made = 0
        chunk = 1000
        for first in range(0, members, chunk):
            part = sim.chunk(first, min(chunk, members - first))
            part.events.sort(key=lambda item: item[0])
            path = Path(tmp) / f"{first:09d}.jsonl"
            with path.open("wb") as out:
                for (at, seq), body in part.events:
                    key = f"{at.astimezone(dt.UTC):%Y%m%d%H%M%S}{seq:012d}"
                    out.write(key.encode() + b"\t" + orjson.dumps(body) + b"\n")
            files.append(path)
            made += len(part.events)
        if made < events:
            raise SystemExit(f"{members} members made only {made} events; pass more --members")
        for body in catalog_events(start, tz):
            yield orjson.dumps(body)
        handles = [p.open("rb") for p in files]
        try:
            for line in heapq.merge(*handles):
                yield line.split(b"\t", 1)[1].rstrip(b"\n")
        finally:
            for h in handles:
                h.close()


def demo_members(events: int, days: int) -> int:
    """Members the demo generator needs for `events` events over `days` (measured on 300)."""
    from member360.demo_events import generate_demo_events  # type: ignore[import-not-found]

    probe = 300
    made = sum(1 for _ in generate_demo_events(members=probe, days=days))
    return math.ceil(events / (made / probe) * 1.05) + 50


def _demo(events: int, members: int | None, days: int) -> Iterator[bytes]:
    from member360.demo_events import generate_demo_events  # type: ignore[import-not-found]

    members = members or demo_members(events, days)
    produced = 0
    # The stream is oldest first; the caller cuts it at `events`, a valid prefix.
    for body in generate_demo_events(members=members, days=days):
        produced += 1
        yield orjson.dumps(body)
    raise SystemExit(f"the demo generator made {produced} events for {members} members")


def has_demo_generator() -> bool:
    return importlib.util.find_spec("member360.demo_events") is not None


def write(out: Path, events: int, members: int | None, days: int, seed: int) -> dict[str, Any]:
    started = time.monotonic()
    source = "member360.demo_events" if has_demo_generator() else "bench.data.simulate"
    stream: Iterable[bytes] = (
        _demo(events, members, days)
        if source == "member360.demo_events"
        else _simulated(events, members, days, seed)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".part")
    count = 0
    with tmp.open("wb") as handle:
        for line in itertools.islice(stream, events):
            handle.write(line + b"\n")
            count += 1
    tmp.replace(out)
    return {
        "file": str(out),
        "events": count,
        "source": source,
        "bytes": out.stat().st_size,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.data.events", description=__doc__.split("\n")[0]
    )
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--members", type=int, help="default: events / 60")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    out = args.out or DATA / f"import-{args.events}.jsonl"
    print(orjson.dumps(write(out, args.events, args.members, args.days, args.seed)).decode())


if __name__ == "__main__":
    sys.exit(main())
