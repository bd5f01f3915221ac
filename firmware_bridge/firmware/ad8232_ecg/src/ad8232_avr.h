/* ad8232_avr: ATmega328P (Arduino Uno/Nano) hardware layer of the reference firmware.
 *
 * Timer1 in CTC mode ticks at the sample rate; its compare-match B event auto-triggers
 * the ADC (no software in the timing path, so no jitter from loop() or Serial), and the
 * ADC-complete interrupt reads the sample and the LO+/LO- pins and hands them to
 * ecg_device_isr_sample(). Wiring (SparkFun AD8232 breakout): OUTPUT -> A0, LO+ -> D10,
 * LO- -> D11, 3.3V and GND.
 */
#ifndef AD8232_AVR_H
#define AD8232_AVR_H

#include <stdint.h>

#include "ecg_device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts sampling into dev at dev->cfg.rate_mhz. Returns 0, or -1 if the rate cannot be
 * made exactly from the 16 MHz clock (250 kHz timer ticks). */
int8_t ad8232_hw_begin(ecg_device_t *dev);
int8_t ad8232_hw_set_rate(uint32_t rate_mhz);

#ifdef __cplusplus
}
#endif
#endif
