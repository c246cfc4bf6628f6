#!/usr/bin/env bash
# Wuye load scenarios (`make bench`). Not run by CI.
#
# Builds the release binary, starts it on a fresh temporary SQLite database (and,
# with BENCH_PG=1, also on a fresh PostgreSQL database) bound to 127.0.0.1 on a
# free port, seeds it through the HTTP API (bench/seed.py), then measures with
# wrk, each run bounded by BENCH_DURATION:
#   healthz        GET /healthz                       baseline (no database)
#   get_house      GET /api/v1/houses/{id}            one row by primary key, authorised and scoped
#   page_houses    GET /api/v1/houses?limit=20&cursor=…  keyset page from the middle
#   create_house   POST /api/v1/houses                insert in a transaction
# Every API request carries an administrator's access token (made with
# `wuye admin create` and signed in), so authentication and the per-request
# grant lookup are part of each figure;
# and prints req/s, latency p50/p99, non-2xx count and the ratio to the baseline.
# Traffic goes to loopback only.
#
# Settings (environment):
#   BENCH_PG=1             also run against PostgreSQL (BENCH_PG_URL admin URL,
#                          default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_DURATION=10s     wrk -d per measurement
#   BENCH_CONNECTIONS=32   wrk -c
#   BENCH_THREADS=1        wrk -t (the server gets the other core)
#   BENCH_RUNS=1           measurements per scenario; the median is reported (3 for figures you publish)
#   BENCH_HOUSES=20000     houses seeded (over 20 buildings x 4 units)
#   BENCH_POOL_SIZE=       WUYE_DB_POOL_SIZE for the server (empty: the server's default)
#   BENCH_RESULTS=         also append the result rows (TSV) to this file
#   BENCH_BIN=             measure this binary instead of building the release one
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
RUNS=${BENCH_RUNS:-1}
HOUSES=${BENCH_HOUSES:-20000}
PG_ADMIN_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BASE_URL=${PG_ADMIN_URL%/*}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wuye-bench.XXXXXX")
SERVER_PID=
PG_DB=

cleanup() {
  set +e
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    sleep 1
    kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  if [[ -n $PG_DB ]]; then
    psql "$PG_ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools ------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [[ ${BENCH_PG:-0} == 1 ]] && ! command -v psql >/dev/null; then need+=(postgresql-client); fi
if ((${#need[@]})); then
  echo "installing ${need[*]} from Debian"
  if [[ $(id -u) == 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# --- build ------------------------------------------------------------------
if [[ -n ${BENCH_BIN:-} ]]; then
  BIN=$BENCH_BIN
else
  echo "==> cargo build --release --bin wuye"
  cargo build --release --locked --bin wuye
  TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  BIN=$TARGET_DIR/release/wuye
fi
test -x "$BIN"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() { # DB_URL -> sets SERVER_PID, BASE, BENCH_TOKEN
  local db_url=$1 port
  port=$(free_port)
  BASE=http://127.0.0.1:$port
  WUYE_DATABASE_URL=$db_url WUYE_ENV=production WUYE_LOG=warn "$BIN" migrate >"$WORK/migrate.log" 2>&1 ||
    { cat "$WORK/migrate.log" >&2; return 1; }
  local password
  password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$password" | WUYE_DATABASE_URL=$db_url WUYE_LOG=warn \
    "$BIN" admin create --username bench --password-stdin >"$WORK/admin.log" 2>&1 ||
    { cat "$WORK/admin.log" >&2; return 1; }
  export WUYE_JWT_SECRET
  WUYE_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  local -a pool=()
  if [[ -n ${BENCH_POOL_SIZE:-} ]]; then pool=(WUYE_DB_POOL_SIZE="$BENCH_POOL_SIZE"); fi
  env "${pool[@]}" WUYE_DATABASE_URL="$db_url" WUYE_BIND="127.0.0.1:$port" WUYE_ENV=production WUYE_LOG=warn \
    "$BIN" serve >"$WORK/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  local _
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null --max-time 2 "$BASE/readyz" 2>/dev/null; then
      export BENCH_TOKEN
      BENCH_TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
        -d "{\"username\":\"bench\",\"password\":\"$password\"}" "$BASE/api/v1/auth/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "server did not become ready; log:" >&2
  tail -n 40 "$WORK/server.log" >&2
  return 1
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# run_wrk NAME URL [wrk args...] -> prints "rps p50_ms p99_ms non2xx" (median run by rps)
run_wrk() {
  local name=$1 url=$2
  shift 2
  local r out
  : >"$WORK/$name.runs"
  for r in $(seq 1 "$RUNS"); do
    out=$(RUN=$r wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
    printf '%s\n' "$out" >"$WORK/$name.$r.out"
    python3 - "$WORK/$name.$r.out" >>"$WORK/$name.runs" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errs = re.search(r"Socket errors:.*", text)
print(f"{rps:.0f} {ms(50):.2f} {ms(99):.2f} {int(bad.group(1)) if bad else 0}{' ' + errs.group(0).replace(' ', '_') if errs else ''}")
PY
  done
  sort -n "$WORK/$name.runs" | sed -n "$(((RUNS + 1) / 2))p"
}

bench_backend() { # LABEL DB_URL
  local label=$1 db_url=$2
  echo
  echo "==> [$label] start server ($db_url)"
  start_server "$db_url"
  echo "==> [$label] seed $HOUSES houses through the API"
  python3 bench/seed.py "$BASE" --houses "$HOUSES" >"$WORK/seed.json"
  cat "$WORK/seed.json"
  local house_id unit_id cursor
  house_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["house_id"])' "$WORK/seed.json")
  unit_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unit_id_for_creates"])' "$WORK/seed.json")
  cursor=$(python3 -c 'import json,sys,urllib.parse; c=json.load(open(sys.argv[1]))["mid_cursor"]; print(urllib.parse.quote(c or "", safe=""))' "$WORK/seed.json")
  local page_url="$BASE/api/v1/houses?limit=20"
  if [[ -n $cursor ]]; then page_url+="&cursor=$cursor"; fi

  # Sanity: each scenario's request must succeed before it is measured.
  curl -fsS -o /dev/null "$BASE/healthz"
  local auth=(-H "Authorization: Bearer $BENCH_TOKEN")
  curl -fsS -o /dev/null "${auth[@]}" "$BASE/api/v1/houses/$house_id"
  curl -fsS -o /dev/null "${auth[@]}" "$page_url"

  local -A result
  echo "==> [$label] wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $RUNS run(s) each"
  result[healthz]=$(run_wrk healthz "$BASE/healthz")
  result[get_house]=$(run_wrk get_house "$BASE/api/v1/houses/$house_id" "${auth[@]}")
  result[page_houses]=$(run_wrk page_houses "$page_url" "${auth[@]}")
  result[create_house]=$(UNIT_ID=$unit_id run_wrk create_house "$BASE/api/v1/houses" -s bench/create_house.lua)
  stop_server

  local base_rps
  base_rps=$(cut -d' ' -f1 <<<"${result[healthz]}")
  printf '\n%-10s %-14s %10s %8s %9s %9s %8s\n' backend scenario "req/s" ratio "p50 ms" "p99 ms" non-2xx
  local s rps p50 p99 bad rest
  for s in healthz get_house page_houses create_house; do
    read -r rps p50 p99 bad rest <<<"${result[$s]}"
    printf '%-10s %-14s %10s %8s %9s %9s %8s %s\n' "$label" "$s" "$rps" \
      "$(python3 -c "print(f'{$rps/$base_rps:.3f}')")" "$p50" "$p99" "$bad" "${rest//_/ }"
    if [[ -n ${BENCH_RESULTS:-} ]]; then
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$s" "$rps" "$p50" "$p99" "$bad" \
        "$(git rev-parse --short HEAD 2>/dev/null || echo none)" >>"$BENCH_RESULTS"
    fi
    if [[ $bad != 0 ]]; then echo "   !! $s: $bad responses were not 2xx/3xx — the figure above is not valid" >&2; fi
  done
}

echo "Wuye bench: $(nproc) cores, wrk $(wrk -v 2>&1 | head -n1 | cut -d' ' -f2), binary $BIN"
bench_backend sqlite "sqlite://$WORK/bench.db"
if [[ ${BENCH_PG:-0} == 1 ]]; then
  PG_DB=wuye_bench_$$
  psql "$PG_ADMIN_URL" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\""
  bench_backend postgres "$PG_BASE_URL/$PG_DB"
fi
