#!/usr/bin/env python3
"""Seed a Wuye server through its HTTP API for the load scenarios (bench/run.sh).

Creates 1 office, 1 estate, BUILDINGS buildings with UNITS units each and
HOUSES houses in total (spread evenly over the units), plus one empty unit that
the "create house" scenario writes into. Only the standard library; a few
persistent connections in parallel threads. Prints one JSON object to stdout:

  {"office_id": …, "unit_id_for_creates": …, "house_id": …, "mid_cursor": …,
   "houses": …, "seconds": …}

Usage: seed.py BASE_URL [--buildings 20] [--units 4] [--houses 20000] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import os
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

_local = threading.local()


class Client:
    """One keep-alive HTTP/1.1 connection per thread."""

    def __init__(self, base: str) -> None:
        url = urllib.parse.urlsplit(base)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"refusing to seed a non-loopback server: {base}")
        self.host, self.port = url.hostname, url.port or 80
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        token = os.environ.get("BENCH_TOKEN")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        payload = json.loads(raw) if raw else {}
        return resp.status, payload

    def create(self, path: str, body: dict) -> dict:
        status, payload = self.request("POST", path, body)
        if status != 201:
            raise SystemExit(f"POST {path} {json.dumps(body, ensure_ascii=False)} -> {status} {payload}")
        return payload


def client(base: str) -> Client:
    if not hasattr(_local, "client"):
        _local.client = Client(base)
    return _local.client


def house_body(unit_id: int, index: int) -> dict:
    floor = index // 10 + 1
    building_area = 60.0 + (index % 7) * 12.5
    return {
        "unit_id": unit_id,
        "number": f"{floor:02d}{index % 10 + 1:02d}",
        "floor": floor,
        "building_area": building_area,
        "usable_area": round(building_area * 0.8, 2),
        "house_type": "residential",
        "state": "occupied",
    }


def seed_unit(base: str, unit_id: int, count: int) -> int:
    c = client(base)
    last = 0
    for i in range(count):
        last = c.create("/api/v1/houses", house_body(unit_id, i))["id"]
    return last


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--buildings", type=int, default=20)
    ap.add_argument("--units", type=int, default=4, help="units per building")
    ap.add_argument("--houses", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    started = time.monotonic()
    base = args.base.rstrip("/")
    c = client(base)
    tag = str(int(time.time()))  # names stay unique if the same database is seeded twice

    office = c.create("/api/v1/offices", {"name": f"压测管理处 {tag}"})
    estate = c.create("/api/v1/estates", {"office_id": office["id"], "name": f"压测小区 {tag}"})
    units: list[int] = []
    for b in range(1, args.buildings + 1):
        building = c.create("/api/v1/buildings", {"estate_id": estate["id"], "name": f"{b}号楼"})
        for u in range(1, args.units + 1):
            units.append(c.create("/api/v1/units", {"building_id": building["id"], "name": f"{u}单元"})["id"])
    spare = c.create("/api/v1/buildings", {"estate_id": estate["id"], "name": "写入压测楼"})
    unit_for_creates = c.create("/api/v1/units", {"building_id": spare["id"], "name": "写入压测单元"})["id"]

    per_unit, extra = divmod(args.houses, len(units))
    counts = [per_unit + (1 if i < extra else 0) for i in range(len(units))]
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        last_ids = list(pool.map(lambda uc: seed_unit(base, *uc), zip(units, counts)))

    # A cursor from the middle of the house list, so the page scenario reads a
    # keyset page that is not simply the first one.
    cursor = None
    for _ in range(max(1, args.houses // 2 // 200)):
        path = "/api/v1/houses?limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, page = c.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path} -> {status} {page}")
        if not page.get("next_cursor"):
            break
        cursor = page["next_cursor"]

    print(
        json.dumps(
            {
                "office_id": office["id"],
                "unit_id_for_creates": unit_for_creates,
                "house_id": last_ids[len(last_ids) // 2],
                "mid_cursor": cursor,
                "houses": sum(counts),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
