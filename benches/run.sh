#!/usr/bin/env bash
# Reproduces the quality and speed figures quoted in the issue notes (not run by CI).
#
#   benches/run.sh extract     # wcxb-dev: token F1 (articles) + pages per CPU-second
#   benches/run.sh trafilatura # trafilatura-eval: snippet P/R/F1 + pages per CPU-second
#   benches/run.sh extract-memory DIR  # wcxb-dev with a site memory primed from DIR
#   benches/run.sh dedup [N]   # generated corpus of N articles (default 10000): link P/R + articles per CPU-second
#   benches/run.sh e2e         # `newsd once` over a loadgen web: 10,000 new articles, 50 hosts, 1,000 feeds, 12 % copies
#   benches/run.sh scale       # `newsd run` over 1k/10k/100k feeds answered 304 and unchanged 200: CPU per poll, RSS
#   benches/run.sh cluster     # cluster mode: articles/s for 1, 2, 3 workers over a loadgen web + the committer alone (needs nats-server)
#
# Needs ../shared beside the repository and python3. Uses a release build; NEWSD=path measures
# another newsd binary (e.g. a baseline), LOADGEN=path another generator. e2e/scale pass any
# further arguments to benches/load.py (e.g. `scale --feeds 1000,10000 --window 60`,
# `e2e --profile`). See benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=../shared
OUT=${OUT:-target/bench}
if [ -z "${NEWSD:-}" ]; then
  cargo build --release --locked --bin newsd
  NEWSD=target/release/newsd
fi
mkdir -p "$OUT"
loadgen() {
  if [ -z "${LOADGEN:-}" ]; then
    cargo build --release --locked --example loadgen >&2
    LOADGEN=target/release/examples/loadgen
  fi
  echo "$LOADGEN"
}

case "${1:-}" in
  extract)
    DS=$SHARED/bench/extraction/wcxb-dev
    rm -rf "$OUT/extract" && mkdir -p "$OUT/extract"
    "$NEWSD" clean --batch "$DS/html" "$OUT/extract" --body-only
    python3 "$SHARED/bench/extraction/eval.py" "$DS" "$OUT/extract" --subset page_type=article --markdown
    python3 - "$OUT/extract/timings.csv" "$DS/ground-truth.json" <<'PY'
import csv, json, sys
gt = json.load(open(sys.argv[2]))
rows = list(csv.DictReader(open(sys.argv[1])))
arts = [r for r in rows if gt.get(r["id"], {}).get("page_type") == "article"]
for name, rs in (("articles", arts), ("all pages", rows)):
    cpu = sum(float(r["cpu_seconds"]) for r in rs)
    worst = max(rs, key=lambda r: float(r["cpu_seconds"]))
    print(f"{name}: {len(rs)} pages, {cpu:.3f} CPU-s, {len(rs)/cpu:.0f} pages/CPU-s, "
          f"max {float(worst['cpu_seconds'])*1000:.1f} ms ({worst['id']})")
PY
    ;;
  trafilatura)
    DS=$SHARED/bench/extraction/trafilatura-eval
    rm -rf "$OUT/trafilatura" && mkdir -p "$OUT/trafilatura"
    "$NEWSD" clean --batch "$DS/html" "$OUT/trafilatura" --body-only
    python3 "$SHARED/bench/extraction/eval.py" "$DS" "$OUT/trafilatura" --markdown
    python3 - "$OUT/trafilatura/timings.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cpu = sum(float(r["cpu_seconds"]) for r in rows)
worst = max(rows, key=lambda r: float(r["cpu_seconds"]))
print(f"all pages: {len(rows)} pages, {cpu:.3f} CPU-s, {len(rows)/cpu:.0f} pages/CPU-s, "
      f"max {float(worst['cpu_seconds'])*1000:.1f} ms ({worst['id']})")
PY
    ;;
  extract-memory)
    # The same batch with a site memory primed from a directory of pages (the extraction path
    # with shapes and memory lookups, i.e. the daemon's): quality and pages per CPU-second.
    DS=$SHARED/bench/extraction/wcxb-dev
    PRIME=${2:?give the directory of pages that primes the memory}
    rm -rf "$OUT/extract-memory" && mkdir -p "$OUT/extract-memory"
    "$NEWSD" clean --site-memory "$PRIME" --batch "$DS/html" "$OUT/extract-memory" --body-only
    python3 "$SHARED/bench/extraction/eval.py" "$DS" "$OUT/extract-memory" --subset page_type=article --markdown
    ;;
  dedup)
    N=${2:-10000}
    CORPUS=$OUT/dedup$N
    if [ ! -f "$CORPUS/labels.jsonl" ]; then
      python3 "$SHARED/bench/dedup/make_corpus.py" --n "$N" --out "$CORPUS" \
        --bases-file "$SHARED/bench/dedup/bases-wcxb-dev-articles.json"
    fi
    # Ingestion order; entries are relative to the list file's folder.
    python3 -c "import json,sys; [print('articles/'+json.loads(l)['id']+'.txt') for l in open(sys.argv[1]+'/labels.jsonl')]" "$CORPUS" > "$CORPUS/list.txt"
    "$NEWSD" dedup --list "$CORPUS/list.txt" > "$OUT/dedup$N.pred.jsonl"
    python3 "$SHARED/bench/dedup/score.py" "$CORPUS/labels.jsonl" "$OUT/dedup$N.pred.jsonl"
    ;;
  e2e)
    shift
    LG=$(loadgen)
    python3 benches/load.py e2e --newsd "$NEWSD" --loadgen "$LG" --out "$OUT/e2e" \
      --corpus "$SHARED/bench/dedup/bases-wcxb-dev-articles.json" "$@"
    ;;
  scale)
    shift
    LG=$(loadgen)
    python3 benches/load.py scale --newsd "$NEWSD" --loadgen "$LG" --out "$OUT/scale" "$@"
    ;;
  cluster)
    shift
    LG=$(loadgen)
    python3 benches/cluster.py --newsd "$NEWSD" --loadgen "$LG" --out "$OUT/cluster" \
      --corpus "$SHARED/bench/dedup/bases-wcxb-dev-articles.json" "$@"
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
