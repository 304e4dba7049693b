#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test of the workspace.
# Installs what the tests need on a fresh Debian machine with only Rust:
# the store and API suites need a PostgreSQL server. One on
# 127.0.0.1:5432 (trust auth, database `test`) is used when present;
# otherwise PostgreSQL is installed and a private server is started on
# 127.0.0.1:54329 for the run, and stopped afterwards. The bypass corpus
# runs every case in real bash inside a bubblewrap sandbox: `bwrap` is
# installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

export CARGO_TERM_COLOR=never

pg_started=""
cleanup() {
  if [[ -n "$pg_started" ]]; then
    $pg_started stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  return 1
}

setup_postgres() {
  if [[ -n "${CAVRA_TEST_DATABASE_URL:-}" ]]; then
    return 0
  fi
  if [[ -z "${CAVRA_TEST_PRIVATE_PG:-}" ]] && tcp_open 5432 && command -v psql >/dev/null 2>&1 \
     && psql "postgres://postgres@127.0.0.1:5432/test" -qAtc 'select 1' >/dev/null 2>&1; then
    export CAVRA_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
    return 0
  fi
  echo "== no PostgreSQL on 127.0.0.1:5432; starting a private one on 127.0.0.1:54329" >&2
  local bin
  if ! bin="$(find_pg_bin)"; then
    export DEBIAN_FRONTEND=noninteractive
    local sudo=""
    [[ "$(id -u)" != 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq postgresql >/dev/null
    # Debian starts its own cluster on 5432; this run uses a private one.
    bin="$(find_pg_bin)"
  fi
  export PATH="$bin:$PATH"
  local data="$root/target/pgdata"
  local runas=()
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runas=(runuser -u postgres --)
  fi
  mkdir -p "$root/target"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    [[ "$(id -u)" == 0 ]] && chown postgres "$data"
    "${runas[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  [[ "$(id -u)" == 0 ]] && chown -R postgres "$data"
  "${runas[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p 54329 -k /tmp -c fsync=on" start >/dev/null
  pg_started="${runas[*]} $bin/pg_ctl -D $data -m fast"
  "$bin/psql" -h 127.0.0.1 -p 54329 -U postgres -qAtc "select 1 from pg_database where datname='test'" postgres | grep -q 1 \
    || "$bin/psql" -h 127.0.0.1 -p 54329 -U postgres -qc "create database test" postgres
  export CAVRA_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:54329/test"
}

drop_old_schemas() {
  # Each test creates its own schema; drop the ones earlier runs left.
  command -v psql >/dev/null 2>&1 || return 0
  psql "$CAVRA_TEST_DATABASE_URL" -qAt -c "select nspname from pg_namespace where nspname like 'cavra_t_%'" 2>/dev/null \
    | while read -r s; do
        psql "$CAVRA_TEST_DATABASE_URL" -q -c "drop schema if exists \"$s\" cascade" >/dev/null 2>&1 || true
      done
}

setup_bwrap() {
  command -v bwrap >/dev/null 2>&1 && return 0
  echo "== installing bubblewrap for the bash ground truth of the bypass corpus" >&2
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""
  [[ "$(id -u)" != 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq bubblewrap >/dev/null
}

if [[ "${1:-}" == "--pg-only" ]]; then
  # Used to check the PostgreSQL provisioning alone.
  setup_postgres
  psql "$CAVRA_TEST_DATABASE_URL" -qAtc 'select version()'
  exit 0
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
setup_postgres
setup_bwrap
drop_old_schemas
echo "== PostgreSQL for the tests: $CAVRA_TEST_DATABASE_URL" >&2
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
