#!/usr/bin/env bash
# Store benchmark: SQLite and PostgreSQL with 1,000,000 stored decisions,
# the JSON store with 10,000. Prints one JSON report per backend, each with
# a raw baseline measured on the same database in the same run.
#
#   bash bench/store.sh                 # all three
#   ROWS=200000 bash bench/store.sh sqlite
set -euo pipefail
cd "$(dirname "$0")/.."
backends=("${@:-sqlite postgres json}")
read -r -a backends <<<"${backends[*]}"
url="${CAVRA_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release -q -p cavra-store --example store_bench
for b in "${backends[@]}"; do
  rows="${ROWS:-}"
  if [[ -z "$rows" ]]; then
    if [[ "$b" == json ]]; then rows=10000; else rows=1000000; fi
  fi
  echo "== $b ($rows decisions)" >&2
  target/release/examples/store_bench --backend "$b" --rows "$rows" --url "$url"
done
