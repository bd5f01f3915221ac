/* ecg_device: see ecg_device.h. */
#include "ecg_device.h"

#include <string.h>

#if defined(__AVR__)
#include <util/atomic.h>
#define ECG_ATOMIC ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
#else
#define ECG_ATOMIC /* host builds: the tests are single-threaded */
#endif

void ecg_device_init(ecg_device_t *d, const ecg_device_config_t *cfg) {
    memset((void *)d, 0, sizeof *d);
    d->cfg = *cfg;
    d->sync[0] = d->sync[1] = 1;
    d->info_pending = 1;
    ctp_decoder_init(&d->rx);
}

void ecg_device_start(ecg_device_t *d) {
    ECG_ATOMIC {
        d->head = d->tail = 0;
        d->isr_index = 0;
        d->next_index = 0;
        d->streaming = 1;
    }
    d->sync[ECG_DATA_STREAM] = 1;
}

void ecg_device_stop(ecg_device_t *d) { d->streaming = 0; }

void ecg_device_request_info(ecg_device_t *d) { d->info_pending = 1; }

void ecg_device_isr_sample(ecg_device_t *d, uint16_t raw, uint8_t lo_bits) {
    uint8_t h = d->head, next = (uint8_t)((h + 1u) & (ECG_RING - 1u));
    if (!d->streaming) return;
    if (next == d->tail) {
        d->overruns++; /* the index still advances: the host sees an exact gap */
    } else {
        uint8_t st = lo_bits;
        if (raw == 0u || raw >= (uint16_t)((1u << d->cfg.adc_bits) - 1u)) st |= CTP_ST_SATURATED;
        d->ring[h] = raw;
        d->ring_status[h] = st;
        d->ring_index[h] = (uint16_t)d->isr_index;
        d->head = next;
    }
    d->isr_index++;
}

static uint16_t frame_seq(ecg_device_t *d, uint8_t stream, uint8_t *flags) {
    *flags = d->sync[stream] ? CTP_FLAG_SYNC : 0;
    d->sync[stream] = 0;
    return d->seq[stream]++;
}

static uint16_t info_frame(ecg_device_t *d, uint8_t *out, uint16_t cap) {
    ctp_writer_t w;
    uint8_t flags;
    uint16_t seq = frame_seq(d, 0, &flags);
    ctp_begin(&w, out, cap, CTP_INFO, flags, 0, seq);
    ctp_put_u8(&w, d->cfg.fw_major);
    ctp_put_u8(&w, d->cfg.fw_minor);
    ctp_put_u16(&w, d->cfg.fw_patch);
    ctp_put_u32(&w, d->cfg.rate_mhz);
    ctp_put_u8(&w, d->cfg.adc_bits);
    ctp_put_str(&w, d->cfg.model);
    ctp_put_str(&w, d->cfg.serial);
    ctp_put_u8(&w, 1); /* one channel */
    ctp_put_f32(&w, d->cfg.scale_uv);
    ctp_put_u32(&w, (uint32_t)d->cfg.offset);
    ctp_put_str(&w, "ECG");
    return ctp_end(&w);
}

uint16_t ecg_device_poll(ecg_device_t *d, uint8_t *out, uint16_t cap) {
    uint8_t head, tail, queued, n, i, status = 0, flags, slot;
    uint16_t seq;
    uint32_t first;
    ctp_writer_t w;
    if (d->ack_pending) {
        seq = frame_seq(d, 0, &flags);
        d->ack_pending = 0;
        return ctp_encode_ack(out, cap, 0, seq, d->ack_command, d->ack_seq, d->ack_result,
                              d->ack_value);
    }
    if (d->info_pending) {
        d->info_pending = 0;
        return info_frame(d, out, cap);
    }
    ECG_ATOMIC { head = d->head; }
    tail = d->tail;
    queued = (uint8_t)((head - tail) & (ECG_RING - 1u));
    if (!d->streaming || queued == 0) return 0;
    /* the first queued sample's full index (samples lost to an overrun are skipped) */
    first = d->next_index + (uint16_t)(d->ring_index[tail] - (uint16_t)d->next_index);
    /* a frame holds contiguous samples only: stop at the first index jump */
    for (n = 1; n < queued && n < ECG_SAMPLES_PER_FRAME; n++) {
        if (d->ring_index[(uint8_t)((tail + n) & (ECG_RING - 1u))] != (uint16_t)(first + n)) break;
    }
    if (n < ECG_SAMPLES_PER_FRAME && n == queued) return 0; /* wait for a full frame */
    for (i = 0; i < n; i++) status |= d->ring_status[(uint8_t)((tail + i) & (ECG_RING - 1u))];
    seq = frame_seq(d, ECG_DATA_STREAM, &flags);
    /* device clock = sample clock: t_us of sample k is k * period (mod 2^32) */
    ctp_begin_data(&w, out, cap, flags, ECG_DATA_STREAM, seq, status, CTP_FMT_INT16, 1, n,
                   d->cfg.rate_mhz, first, first * (uint32_t)(1000000000ULL / d->cfg.rate_mhz));
    for (i = 0; i < n; i++) {
        slot = (uint8_t)((tail + i) & (ECG_RING - 1u));
        ctp_put_i16(&w, (int16_t)d->ring[slot]);
    }
    d->tail = (uint8_t)((tail + n) & (ECG_RING - 1u));
    d->next_index = first + n;
    return ctp_end(&w);
}

void ecg_device_rx(ecg_device_t *d, uint8_t byte) {
    const uint8_t *body;
    uint16_t len = ctp_decoder_push(&d->rx, byte, &body);
    uint8_t result = CTP_ACK_OK;
    uint32_t value = 0, arg;
    if (len != CTP_HEADER_LEN + 5u + CTP_CRC_LEN || body[0] != CTP_VERSION || body[1] != CTP_CONTROL) return;
    arg = ctp_get_u32(body + CTP_HEADER_LEN + 1);
    switch (body[CTP_HEADER_LEN]) {
    case CTP_CMD_START: ecg_device_start(d); break;
    case CTP_CMD_STOP: ecg_device_stop(d); break;
    case CTP_CMD_GET_INFO: d->info_pending = 1; break;
    case CTP_CMD_PING: value = arg; break;
    case CTP_CMD_SET_RATE:
        if (arg >= 50000UL && arg <= 1000000UL && 1000000000ULL % arg == 0) {
            d->cfg.rate_mhz = arg;
            d->rate_change = 1;
            d->info_pending = 1;
        } else {
            result = CTP_ACK_BAD_ARGUMENT;
        }
        value = d->cfg.rate_mhz;
        break;
    default: result = CTP_ACK_UNSUPPORTED;
    }
    d->ack_pending = 1;
    d->ack_command = body[CTP_HEADER_LEN];
    d->ack_seq = ctp_get_u16(body + 4);
    d->ack_result = result;
    d->ack_value = value;
}
