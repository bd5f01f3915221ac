/* ad8232_avr: see ad8232_avr.h. Only built for AVR targets. */
#if defined(__AVR__)
#include "ad8232_avr.h"

#include <avr/interrupt.h>
#include <avr/io.h>

#ifndef F_CPU
#define F_CPU 16000000UL
#endif
#define TIMER_HZ (F_CPU / 64UL) /* prescaler 64: 250 kHz at 16 MHz */

static ecg_device_t *volatile g_dev;

int8_t ad8232_hw_set_rate(uint32_t rate_mhz) {
    uint32_t ticks_x1000 = TIMER_HZ * 1000UL;
    uint32_t top;
    if (rate_mhz == 0 || ticks_x1000 % rate_mhz != 0) return -1;
    top = ticks_x1000 / rate_mhz;
    if (top < 2u || top > 65536UL) return -1;
    TCCR1B = 0; /* stop while reprogramming */
    TCNT1 = 0;
    OCR1A = (uint16_t)(top - 1u); /* TOP: the sample period */
    OCR1B = (uint16_t)(top - 1u); /* compare B at TOP: the ADC trigger event */
    TCCR1A = 0;
    TCCR1B = _BV(WGM12) | _BV(CS11) | _BV(CS10); /* CTC on OCR1A, clk/64 */
    return 0;
}

int8_t ad8232_hw_begin(ecg_device_t *dev) {
    g_dev = dev;
    DDRB &= (uint8_t)~(_BV(DDB2) | _BV(DDB3)); /* D10 = LO+, D11 = LO- as inputs */
    ADMUX = _BV(REFS0);                         /* AVcc reference, channel ADC0 (A0) */
    ADCSRB = _BV(ADTS2) | _BV(ADTS0);           /* auto trigger: Timer1 compare match B */
    DIDR0 = _BV(ADC0D);                         /* no digital input buffer on A0 */
    /* enable, auto trigger, interrupt, clk/128 = 125 kHz ADC clock (104 us conversion) */
    ADCSRA = _BV(ADEN) | _BV(ADATE) | _BV(ADIE) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    if (ad8232_hw_set_rate(dev->cfg.rate_mhz) != 0) return -1;
    sei();
    return 0;
}

ISR(ADC_vect) {
    uint16_t raw = ADC;
    uint8_t pins = PINB, lo = 0;
    TIFR1 = _BV(OCF1B); /* clear the trigger flag so the next compare match re-triggers */
    if (pins & _BV(PINB2)) lo |= CTP_ST_LEAD_OFF_POS;
    if (pins & _BV(PINB3)) lo |= CTP_ST_LEAD_OFF_NEG;
    ecg_device_isr_sample(g_dev, raw, lo);
}
#endif
