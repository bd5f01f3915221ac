#!/usr/bin/env bash
# Make sure avr-gcc and avr-libc are installed (Debian's packages), so the test that builds the
# reference firmware for an ATmega328P (Arduino Uno) runs instead of being skipped.
set -euo pipefail
if command -v avr-gcc >/dev/null 2>&1; then echo "avr-gcc: $(avr-gcc --version | head -1)"; exit 0; fi
echo "avr-gcc: not installed, installing from Debian"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-avr avr-libc binutils-avr
avr-gcc --version | head -1
