// cardiotune reference firmware: AD8232 ECG front-end on an Arduino Uno / Nano (ATmega328P).
//
// Samples at 250 Hz from Timer1 (hardware-triggered ADC, not delay()), reports lead-off from
// LO+ (D10) / LO- (D11), and streams the cardiotune serial protocol v1 at 115200 baud:
// COBS-framed, CRC-32-checked DATA frames of 10 samples, an INFO frame with the scale to
// millivolts, and answers to START/STOP/SET_RATE/GET_INFO/PING. See firmware_bridge/PROTOCOL.md.
//
// Wiring (SparkFun AD8232 breakout): OUTPUT -> A0, LO+ -> D10, LO- -> D11, 3.3V -> 3.3V, GND.
// Board constants (gain, offset, serial number) are in src/ad8232_config.h.
// Arduino IDE >= 1.6.10 compiles the src/ folder with the sketch.

#include "src/ctp.h"
#include "src/ecg_device.h"
#include "src/ad8232_avr.h"
#include "src/ad8232_config.h"

static ecg_device_t dev;
static uint8_t wire[CTP_MAX_WIRE];
static unsigned long last_info_ms = 0;

void setup() {
  Serial.begin(115200);
  ecg_device_init(&dev, &AD8232_CONFIG);
  ad8232_hw_begin(&dev);
  ecg_device_start(&dev);  // stream at once; the host may STOP/START at will
}

void loop() {
  while (Serial.available() > 0) {
    ecg_device_rx(&dev, (uint8_t)Serial.read());
  }
  if (dev.rate_change) {
    dev.rate_change = 0;
    ad8232_hw_set_rate(dev.cfg.rate_mhz);
  }
  if (millis() - last_info_ms >= 5000UL) {  // late listeners learn the scale within 5 s
    last_info_ms = millis();
    ecg_device_request_info(&dev);
  }
  uint16_t n = ecg_device_poll(&dev, wire, sizeof wire);
  if (n) {
    Serial.write(wire, n);
  }
}
