/* ecg_device: the board-independent part of the reference firmware.
 *
 * The sampling interrupt calls ecg_device_isr_sample() with each ADC reading and the
 * lead-off pins; the main loop calls ecg_device_poll() to get the next frame to send and
 * ecg_device_rx() with every byte received from the host. Portable C99, no dynamic memory;
 * the only shared state between ISR and main loop is a single-producer ring buffer.
 */
#ifndef ECG_DEVICE_H
#define ECG_DEVICE_H

#include <stdint.h>

#include "ctp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ECG_RING 64u          /* samples; power of two */
#define ECG_SAMPLES_PER_FRAME 10u
#define ECG_DATA_STREAM 1u

typedef struct {
    const char *model;
    const char *serial;
    uint8_t fw_major, fw_minor;
    uint16_t fw_patch;
    uint8_t adc_bits;
    float scale_uv;    /* microvolts at the electrodes per ADC count */
    int32_t offset;    /* ADC count of 0 mV */
    uint32_t rate_mhz; /* sample rate, millihertz */
} ecg_device_config_t;

typedef struct {
    ecg_device_config_t cfg;
    /* ring buffer: written only by the ISR (head), read only by the main loop (tail) */
    volatile uint16_t ring[ECG_RING];
    volatile uint8_t ring_status[ECG_RING];
    volatile uint16_t ring_index[ECG_RING]; /* low 16 bits of each sample's index */
    volatile uint8_t head, tail;
    volatile uint32_t isr_index;   /* index of the next sample the ISR will take */
    volatile uint32_t overruns;    /* samples lost because the main loop fell behind */
    uint32_t next_index;           /* index of the sample at ring[tail] */
    uint16_t seq[2];               /* per stream: 0 = device frames, 1 = ECG data */
    uint8_t sync[2];
    uint8_t streaming;
    uint8_t info_pending;
    uint8_t ack_pending;
    uint8_t ack_command, ack_result;
    uint16_t ack_seq;
    uint32_t ack_value;
    uint8_t rate_change;           /* the board layer applies cfg.rate_mhz when set */
    ctp_decoder_t rx;
} ecg_device_t;

void ecg_device_init(ecg_device_t *d, const ecg_device_config_t *cfg);
/* From the sampling ISR. lo_bits: CTP_ST_LEAD_OFF_POS / _NEG as read from LO+ / LO-. */
void ecg_device_isr_sample(ecg_device_t *d, uint16_t raw, uint8_t lo_bits);
/* From the main loop: writes the next frame to send into out (CTP_MAX_WIRE bytes) and
 * returns its length, or 0 when there is nothing to send. */
uint16_t ecg_device_poll(ecg_device_t *d, uint8_t *out, uint16_t cap);
/* From the main loop, for every byte received from the host. */
void ecg_device_rx(ecg_device_t *d, uint8_t byte);
/* Ask for an INFO frame (at boot, and periodically so late listeners learn the scale). */
void ecg_device_request_info(ecg_device_t *d);
void ecg_device_start(ecg_device_t *d);
void ecg_device_stop(ecg_device_t *d);

#ifdef __cplusplus
}
#endif
#endif
