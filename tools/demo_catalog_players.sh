#!/usr/bin/env bash
# The catalog closed loop on one machine: build a catalog from a music folder, let the edge
# demo pick from it, play the picks on a null-output player AND a private MPD, and count the
# player events that come back over the broker (Mosquitto on 127.0.0.1:1883).
#   bash tools/demo_catalog_players.sh <music dir> [workdir]
set -euo pipefail
MUSIC=$(cd "${1:?usage: $0 <music dir> [workdir]}" && pwd)
WORK=${2:-$(mktemp -d /tmp/ct-catalog-demo-XXXX)}
PY=${PY:-.venv/bin/python}
D=catdemo$RANDOM
mkdir -p "$WORK"
bash tools/ensure_mosquitto.sh >/dev/null
bash tools/ensure_mpd.sh >/dev/null
$PY -m cardiotune catalog build "$MUSIC" --db "$WORK/catalog.db" --index "$WORK/index.npz" --no-progress
$PY -m cardiotune catalog show --db "$WORK/catalog.db" --png "$WORK/catalog.png" --html "$WORK/catalog.html" >/dev/null
mosquitto_sub -h 127.0.0.1 -t "cardiotune/v1/$D/#" -v > "$WORK/mqtt.log" &
SUB=$!
$PY -m cardiotune player --device-id "$D" --backend null --catalog "$WORK/index.npz" > "$WORK/player_null.log" 2>&1 &
P1=$!
$PY -m cardiotune player --device-id "$D" --start-mpd "$MUSIC" --catalog "$WORK/index.npz" > "$WORK/player_mpd.log" 2>&1 &
P2=$!
trap 'kill $P1 $P2 $SUB 2>/dev/null || true' EXIT
sleep 10
$PY -m cardiotune demo --catalog "$WORK/index.npz" --broker mqtt://127.0.0.1:1883 --device-id "$D" \
    --speed "${SPEED:-8}" --duration "${DURATION:-480}" --plain > "$WORK/demo.log" 2>&1
sleep 5
echo "picks published: $(grep -c '/pick ' "$WORK/mqtt.log")"
echo "player events (backend, event, reason): count"
grep '/player/event' "$WORK/mqtt.log" | cut -d' ' -f2- | $PY -c "
import collections, json, sys
c = collections.Counter((d['backend'], d['event'], d['reason']) for d in map(json.loads, sys.stdin))
for k, v in sorted(c.items()): print(' ', k, v)"
echo "everything is in $WORK"
