#!/usr/bin/env bash
# Make sure the Music Player Daemon binary is installed (Debian's package), the same way
# tools/ensure_mosquitto.sh installs the broker. The tests start their own MPD instance
# (temporary config, null audio output, temporary music folder); nothing runs here.
set -euo pipefail
if command -v mpd >/dev/null 2>&1; then echo "mpd: $(mpd --version | head -1)"; exit 0; fi
echo "mpd: not installed, installing from Debian"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mpd
# Debian starts a system-wide mpd through systemd when there is one; the tests do not use it.
mpd --version | head -1
