#!/usr/bin/env bash
# Smoke test of the container: build the image with Docker or Podman, start it on the Xixiu demo, and check
# that /health answers ok and that a proposal's PDF report is a real PDF with its Chinese fonts.
#
#   docker/smoke.sh                 build, run, check, remove the container (ENGINE=podman to choose)
#   docker/smoke.sh --check URL     only the checks, against a gridgov already serving the demo at URL
#
# Exit 0 when every check passes; non-zero with the reason otherwise. Needs curl; pdffonts (poppler-utils)
# is used for the font check when present.
set -euo pipefail
cd "$(dirname "$0")/.."

KEY=${SMOKE_PLANNER_KEY:-smoke-planner-key-0123456789}
PORT=${SMOKE_PORT:-18080}
IMAGE=${SMOKE_IMAGE:-gridgov:smoke}
work=$(mktemp -d)
container=""

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
say() { echo "smoke: $*"; }

cleanup() {
  if [ -n "$container" ]; then
    "$ENGINE" logs "$container" >"$work/container.log" 2>&1 || true
    "$ENGINE" rm -f "$container" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_health() {  # URL SECONDS
  local deadline=$((SECONDS + $2))
  until curl -fsS "$1/health" >"$work/health.json" 2>/dev/null; do
    if [ -n "$container" ] && ! "$ENGINE" ps -q --filter "name=$container" | grep -q .; then
      "$ENGINE" logs "$container" 2>&1 | tail -30 >&2
      fail "the container stopped before /health answered"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "/health did not answer within $2 s"
    sleep 2
  done
}

check() {  # URL
  local url=$1
  wait_for_health "$url" "${SMOKE_WAIT:-300}"
  grep -q '"status":"ok"' "$work/health.json" || fail "/health: $(cat "$work/health.json")"
  grep -Eq '"current_units":[1-9]' "$work/health.json" || fail "/health: no units loaded: $(cat "$work/health.json")"
  say "/health ok: $(cat "$work/health.json")"

  # The walkthrough's change: grid 1 of Nanjiao (南郊社区) to Lida (利达社区); its impact report as PDF.
  local body='{"from_code": "520402006006", "to_code": "520402006009", "child_codes": ["520402006006001"],
    "effective_date": "2025-03-01", "author": "smoke", "reason": "smoke test", "document_ref": "smoke"}'
  local status
  status=$(curl -sS -o "$work/proposal.json" -w '%{http_code}' -X POST "$url/proposals" \
    -H "X-API-Key: $KEY" -H 'content-type: application/json' -d "$body")
  [ "$status" = 201 ] || [ "$status" = 200 ] || fail "POST /proposals: HTTP $status $(head -c 500 "$work/proposal.json")"
  local id
  if command -v python3 >/dev/null; then
    id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["proposal"]["id"])' <"$work/proposal.json" || true)
  else
    id=$(sed -nE 's/^\{"proposal": ?\{"id": ?([0-9]+).*/\1/p' "$work/proposal.json")
  fi
  [ -n "$id" ] || fail "POST /proposals: no id in $(head -c 300 "$work/proposal.json")"

  status=$(curl -sS -o "$work/report.pdf" -w '%{http_code} %{content_type}' "$url/proposals/$id/report.pdf")
  case "$status" in "200 application/pdf"*) ;; *) fail "GET /proposals/$id/report.pdf: $status $(head -c 300 "$work/report.pdf")" ;; esac
  [ "$(head -c 5 "$work/report.pdf")" = "%PDF-" ] || fail "report.pdf is not a PDF"
  if command -v pdffonts >/dev/null; then
    pdffonts "$work/report.pdf" | grep -qi "cjk" || fail "report.pdf embeds no CJK font: $(pdffonts "$work/report.pdf")"
    say "report.pdf embeds a CJK font"
  fi
  say "report.pdf ok ($(wc -c <"$work/report.pdf") bytes) for proposal $id"
}

if [ "${1:-}" = "--check" ]; then
  [ -n "${2:-}" ] || fail "usage: docker/smoke.sh --check URL"
  check "${2%/}"
  say "PASS"
  exit 0
fi

ENGINE=${ENGINE:-}
if [ -z "$ENGINE" ]; then
  for candidate in docker podman; do
    if command -v "$candidate" >/dev/null && "$candidate" info >/dev/null 2>&1; then ENGINE=$candidate; break; fi
  done
fi
[ -n "$ENGINE" ] || fail "neither Docker nor Podman can run containers here (is the daemon running?)"
say "building $IMAGE with $ENGINE"
"$ENGINE" build -f docker/Dockerfile -t "$IMAGE" .
container="gridgov-smoke-$$"
"$ENGINE" run -d --name "$container" -p "127.0.0.1:$PORT:8000" \
  -e GRIDGOV_DATABASE_URL=sqlite:////tmp/gridgov.sqlite \
  -e GRIDGOV_API_KEYS="{\"$KEY\": \"planner\"}" \
  "$IMAGE" sh -c "gridgov demo build --out /tmp/xixiu.gpkg && gridgov db init \
    && gridgov import /tmp/xixiu.gpkg --valid-from 2024-01-01 --author smoke && exec gridgov serve" >/dev/null
check "http://127.0.0.1:$PORT"
say "PASS ($ENGINE, image $IMAGE)"
