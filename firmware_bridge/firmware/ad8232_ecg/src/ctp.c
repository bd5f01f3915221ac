/* ctp: see ctp.h and firmware_bridge/PROTOCOL.md. No dynamic memory, no stdio. */
#include "ctp.h"

#include <string.h>

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define CTP_TABLE(x) const uint32_t x[16] PROGMEM
#define CTP_READ(t, i) pgm_read_dword(&(t)[i])
#else
#define CTP_TABLE(x) static const uint32_t x[16]
#define CTP_READ(t, i) ((t)[i])
#endif

/* CRC-32/ISO-HDLC (zlib's crc32), reflected polynomial 0xEDB88320, nibble table. */
CTP_TABLE(ctp_crc_nibble) = {
    0x00000000UL, 0x1DB71064UL, 0x3B6E20C8UL, 0x26D930ACUL, 0x76DC4190UL, 0x6B6B51F4UL,
    0x4DB26158UL, 0x5005713CUL, 0xEDB88320UL, 0xF00F9344UL, 0xD6D6A3E8UL, 0xCB61B38CUL,
    0x9B64C2B0UL, 0x86D3D2D4UL, 0xA00AE278UL, 0xBDBDF21CUL};

uint32_t ctp_crc32_update(uint32_t crc, uint8_t byte) {
    crc ^= byte;
    crc = (crc >> 4) ^ CTP_READ(ctp_crc_nibble, crc & 15u);
    crc = (crc >> 4) ^ CTP_READ(ctp_crc_nibble, crc & 15u);
    return crc;
}

static void stuff(ctp_writer_t *w, uint8_t b) {
    if (w->len + 1u >= w->cap) { /* keep room for the closing delimiter */
        w->error = 1;
        return;
    }
    w->block_full = 0;
    if (b == 0) {
        w->out[w->code_pos] = w->code;
        w->code_pos = w->len++;
        w->code = 1;
    } else {
        w->out[w->len++] = b;
        if (++w->code == 0xFF) {
            w->out[w->code_pos] = w->code;
            w->code_pos = w->len++;
            w->code = 1;
            w->block_full = 1;
        }
    }
}

static void put(ctp_writer_t *w, uint8_t b) {
    if (w->body_len + CTP_CRC_LEN >= CTP_MAX_FRAME) {
        w->error = 1;
        return;
    }
    w->body_len++;
    w->crc = ctp_crc32_update(w->crc, b);
    stuff(w, b);
}

void ctp_begin(ctp_writer_t *w, uint8_t *out, uint16_t cap, uint8_t type, uint8_t flags,
               uint8_t stream, uint16_t seq) {
    w->out = out;
    w->cap = cap;
    w->error = cap < 8u;
    w->body_len = 0;
    w->crc = 0xFFFFFFFFUL;
    w->code = 1;
    w->block_full = 0;
    if (w->error) return;
    out[0] = 0x00; /* leading delimiter: this frame survives damage to the previous one */
    w->code_pos = 1;
    w->len = 2;
    put(w, CTP_VERSION);
    put(w, type);
    put(w, flags);
    put(w, stream);
    ctp_put_u16(w, seq);
}

void ctp_put_u8(ctp_writer_t *w, uint8_t v) { put(w, v); }
void ctp_put_u16(ctp_writer_t *w, uint16_t v) {
    put(w, (uint8_t)v);
    put(w, (uint8_t)(v >> 8));
}
void ctp_put_u32(ctp_writer_t *w, uint32_t v) {
    ctp_put_u16(w, (uint16_t)v);
    ctp_put_u16(w, (uint16_t)(v >> 16));
}
void ctp_put_i16(ctp_writer_t *w, int16_t v) { ctp_put_u16(w, (uint16_t)v); }
void ctp_put_i24(ctp_writer_t *w, int32_t v) {
    uint32_t u = (uint32_t)v;
    put(w, (uint8_t)u);
    put(w, (uint8_t)(u >> 8));
    put(w, (uint8_t)(u >> 16));
}
void ctp_put_f32(ctp_writer_t *w, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u); /* IEEE-754 binary32 on every supported target */
    ctp_put_u32(w, u);
}
void ctp_put_bytes(ctp_writer_t *w, const uint8_t *p, uint16_t n) {
    while (n--) put(w, *p++);
}
void ctp_put_str(ctp_writer_t *w, const char *s) {
    size_t n = strlen(s);
    if (n > 64u) {
        w->error = 1;
        return;
    }
    put(w, (uint8_t)n);
    ctp_put_bytes(w, (const uint8_t *)s, (uint16_t)n);
}

uint16_t ctp_end(ctp_writer_t *w) {
    uint32_t crc;
    uint8_t i;
    if (w->error) return 0;
    crc = ~w->crc;
    for (i = 0; i < 4u; i++) {
        stuff(w, (uint8_t)(crc >> (8u * i)));
    }
    if (w->error) return 0;
    if (w->block_full) {
        w->len = w->code_pos; /* data ended exactly at a full block: no trailing code */
    } else {
        w->out[w->code_pos] = w->code;
    }
    w->out[w->len++] = 0x00;
    return w->len;
}

void ctp_begin_data(ctp_writer_t *w, uint8_t *out, uint16_t cap, uint8_t flags, uint8_t stream,
                    uint16_t seq, uint8_t status, uint8_t fmt, uint8_t channels, uint8_t n,
                    uint32_t rate_mhz, uint32_t sample_index, uint32_t t_us) {
    ctp_begin(w, out, cap, CTP_DATA, flags, stream, seq);
    put(w, status);
    put(w, fmt);
    put(w, channels);
    put(w, n);
    ctp_put_u32(w, rate_mhz);
    ctp_put_u32(w, sample_index);
    ctp_put_u32(w, t_us);
}

uint16_t ctp_encode_ack(uint8_t *out, uint16_t cap, uint8_t stream, uint16_t seq, uint8_t command,
                        uint16_t command_seq, uint8_t result, uint32_t value) {
    ctp_writer_t w;
    ctp_begin(&w, out, cap, CTP_ACK, 0, stream, seq);
    put(&w, command);
    ctp_put_u16(&w, command_seq);
    put(&w, result);
    ctp_put_u32(&w, value);
    return ctp_end(&w);
}

uint16_t ctp_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
uint32_t ctp_get_u32(const uint8_t *p) {
    return (uint32_t)ctp_get_u16(p) | ((uint32_t)ctp_get_u16(p + 2) << 16);
}

void ctp_decoder_init(ctp_decoder_t *d) { memset(d, 0, sizeof *d); }

uint16_t ctp_decoder_push(ctp_decoder_t *d, uint8_t byte, const uint8_t **body) {
    uint16_t i, j, n, end;
    uint8_t code;
    uint32_t crc;
    if (byte != 0) {
        if (d->len < CTP_MAX_ENCODED) {
            d->buf[d->len++] = byte;
        } else {
            d->overflow = 1;
        }
        return 0;
    }
    n = d->len;
    d->len = 0;
    if (d->overflow) {
        d->overflow = 0;
        d->oversize++;
        return 0;
    }
    if (n == 0) return 0; /* empty frame between two delimiters */
    /* COBS-decode in place: the write index never passes the read index */
    i = 0;
    j = 0;
    while (i < n) {
        code = d->buf[i];
        end = (uint16_t)(i + code);
        if (end > n) {
            d->framing_errors++;
            return 0;
        }
        for (i++; i < end; i++) d->buf[j++] = d->buf[i];
        if (code != 0xFF && i < n) d->buf[j++] = 0;
    }
    if (j < CTP_HEADER_LEN + CTP_CRC_LEN) {
        d->framing_errors++;
        return 0;
    }
    crc = 0xFFFFFFFFUL;
    for (i = 0; i < j - CTP_CRC_LEN; i++) crc = ctp_crc32_update(crc, d->buf[i]);
    if (~crc != ctp_get_u32(d->buf + j - CTP_CRC_LEN)) {
        d->crc_errors++;
        return 0;
    }
    d->frames++;
    *body = d->buf;
    return j;
}
