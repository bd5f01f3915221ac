/* Bare-metal build of the reference firmware for an ATmega328P at 16 MHz (no Arduino
 * core): the same src/ files as the sketch, with the UART driven by registers.
 *   make -C firmware_bridge/firmware/ad8232_ecg/baremetal        (needs gcc-avr, avr-libc)
 *   avrdude -c arduino -p m328p -P /dev/ttyACM0 -b 115200 -U flash:w:ad8232_ecg.hex
 */
#include <avr/io.h>
#include <stdint.h>

#include "../src/ad8232_avr.h"
#include "../src/ctp.h"
#include "../src/ecg_device.h"
#include "../src/ad8232_config.h"

#define BAUD_DIV 16u /* 115200 baud at 16 MHz with U2X0: 16e6 / (8 * 115200) - 1 = 16.36 */

static ecg_device_t dev;
static uint8_t wire[CTP_MAX_WIRE];

static void uart_init(void) {
    UBRR0H = 0;
    UBRR0L = BAUD_DIV;
    UCSR0A = _BV(U2X0);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
}

static void uart_write(const uint8_t *p, uint16_t n) {
    while (n--) {
        while (!(UCSR0A & _BV(UDRE0))) {
        }
        UDR0 = *p++;
    }
}

int main(void) {
    uint16_t n;
    uint32_t frames = 0;
    uart_init();
    ecg_device_init(&dev, &AD8232_CONFIG);
    ad8232_hw_begin(&dev);
    ecg_device_start(&dev);
    for (;;) {
        while (UCSR0A & _BV(RXC0)) ecg_device_rx(&dev, UDR0);
        if (dev.rate_change) {
            dev.rate_change = 0;
            ad8232_hw_set_rate(dev.cfg.rate_mhz);
        }
        n = ecg_device_poll(&dev, wire, sizeof wire);
        if (n) {
            uart_write(wire, n);
            /* INFO every 125 data frames (5 s at 250 Hz) for hosts that connect late */
            if (++frames % 125u == 0) ecg_device_request_info(&dev);
        }
    }
}
