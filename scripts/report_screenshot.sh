#!/usr/bin/env bash
# docs/report.png, the README's picture of a report: the demo's Europarl run (en→es), its report
# written by `xproj report`, photographed by headless Chromium (Debian: apt-get install chromium).
#   bash scripts/report_screenshot.sh [LAKE]     (default: a fresh lake in a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${XPROJ_VENV:-.venv}/bin"
LAKE="${1:-$(mktemp -d)/lake}"
BROWSER="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$BROWSER" ] || { echo "no Chromium: apt-get install chromium" >&2; exit 2; }
"$BIN/xproj" demo --lake "$LAKE" >/dev/null
RUN="$("$BIN/xproj" query --lake "$LAKE" --format csv \
    "SELECT run_id FROM runs WHERE parameters LIKE '%europarl%' ORDER BY finished_at DESC LIMIT 1" \
    | tail -n 1 | tr -d '"')"
[ -n "$RUN" ] && [ "$RUN" != run_id ] || {
    echo "the demo made no Europarl run: it needs the shared data (XPROJ_SHARED_DATA)" >&2; exit 2; }
"$BIN/xproj" report "$RUN" --lake "$LAKE" -o "$LAKE/report.html"
"$BROWSER" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1700 \
    --screenshot="$PWD/docs/report.png" "file://$(cd "$LAKE" && pwd)/report.html" 2>/dev/null
echo "docs/report.png: the report of run $RUN"
