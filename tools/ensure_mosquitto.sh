#!/usr/bin/env bash
# Make sure a Mosquitto broker listens on 127.0.0.1:1883 (install it with apt if needed).
set -euo pipefail
listening() { (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; }
if listening; then echo "mosquitto: 127.0.0.1:1883 is up"; exit 0; fi
if ! command -v mosquitto >/dev/null 2>&1; then
    echo "mosquitto: not installed, installing from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients
fi
mkdir -p /run/mosquitto /var/lib/mosquitto /var/log/mosquitto
chown -R mosquitto: /run/mosquitto /var/lib/mosquitto /var/log/mosquitto 2>/dev/null || true
mosquitto -d -c /etc/mosquitto/mosquitto.conf
for _ in $(seq 50); do listening && { echo "mosquitto: started on 127.0.0.1:1883"; exit 0; }; sleep 0.1; done
echo "mosquitto: FAILED to start on 127.0.0.1:1883" >&2
exit 1
