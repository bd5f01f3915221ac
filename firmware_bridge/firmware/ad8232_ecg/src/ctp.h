/* ctp: the cardiotune serial protocol, version 1 - portable C, no dynamic memory.
 *
 * See firmware_bridge/PROTOCOL.md. A frame on the wire is 0x00, COBS(body), 0x00 where
 * body = header(6) + payload + CRC-32(4, little-endian, zlib/IEEE over header+payload).
 * Build a frame with ctp_begin / ctp_put_* / ctp_end into a caller-owned buffer of
 * CTP_MAX_WIRE bytes; parse host->device frames with ctp_decoder_push.
 */
#ifndef CTP_H
#define CTP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTP_VERSION 1u
#define CTP_HEADER_LEN 6u
#define CTP_CRC_LEN 4u
#define CTP_MAX_FRAME 254u   /* unstuffed bytes including the CRC */
#define CTP_MAX_ENCODED 255u /* stuffed bytes of one frame, no delimiters */
#define CTP_MAX_WIRE 257u    /* 0x00 + stuffed + 0x00 */

enum { CTP_DATA = 1, CTP_INFO = 2, CTP_CONTROL = 3, CTP_ACK = 4, CTP_LOG = 5 };
enum { CTP_FMT_INT16 = 1, CTP_FMT_INT24 = 2 };
enum { CTP_FLAG_SYNC = 0x01 };
enum {
    CTP_ST_LEAD_OFF_POS = 0x01, CTP_ST_LEAD_OFF_NEG = 0x02, CTP_ST_LEAD_OFF_REF = 0x04,
    CTP_ST_SATURATED = 0x08, CTP_ST_BATTERY_LOW = 0x10
};
enum { CTP_CMD_START = 1, CTP_CMD_STOP = 2, CTP_CMD_SET_RATE = 3, CTP_CMD_GET_INFO = 4, CTP_CMD_PING = 5 };
enum { CTP_ACK_OK = 0, CTP_ACK_UNSUPPORTED = 1, CTP_ACK_BAD_ARGUMENT = 2, CTP_ACK_BUSY = 3 };

typedef struct {
    uint8_t *out;
    uint16_t cap;
    uint16_t len;      /* bytes written to out so far */
    uint16_t code_pos; /* where the current COBS code byte goes */
    uint16_t body_len; /* unstuffed bytes so far (CRC excluded until ctp_end) */
    uint32_t crc;
    uint8_t code;
    uint8_t block_full; /* the last byte completed a 254-byte block */
    uint8_t error;
} ctp_writer_t;

void ctp_begin(ctp_writer_t *w, uint8_t *out, uint16_t cap, uint8_t type, uint8_t flags,
               uint8_t stream, uint16_t seq);
void ctp_put_u8(ctp_writer_t *w, uint8_t v);
void ctp_put_u16(ctp_writer_t *w, uint16_t v);
void ctp_put_u32(ctp_writer_t *w, uint32_t v);
void ctp_put_i16(ctp_writer_t *w, int16_t v);
void ctp_put_i24(ctp_writer_t *w, int32_t v);
void ctp_put_f32(ctp_writer_t *w, float v);
void ctp_put_bytes(ctp_writer_t *w, const uint8_t *p, uint16_t n);
void ctp_put_str(ctp_writer_t *w, const char *s); /* u8 length + bytes, at most 64 */
/* Appends the CRC and the closing delimiter. Returns the wire length, 0 on overflow. */
uint16_t ctp_end(ctp_writer_t *w);

/* DATA frame header fields; samples follow with ctp_put_i16 / ctp_put_i24. */
void ctp_begin_data(ctp_writer_t *w, uint8_t *out, uint16_t cap, uint8_t flags, uint8_t stream,
                    uint16_t seq, uint8_t status, uint8_t fmt, uint8_t channels, uint8_t n,
                    uint32_t rate_mhz, uint32_t sample_index, uint32_t t_us);
uint16_t ctp_encode_ack(uint8_t *out, uint16_t cap, uint8_t stream, uint16_t seq, uint8_t command,
                        uint16_t command_seq, uint8_t result, uint32_t value);

uint32_t ctp_crc32_update(uint32_t crc, uint8_t byte); /* start 0xFFFFFFFF, finish with ~ */

typedef struct {
    uint8_t buf[CTP_MAX_ENCODED];
    uint16_t len;
    uint8_t overflow;
    uint32_t frames, crc_errors, framing_errors, oversize;
} ctp_decoder_t;

void ctp_decoder_init(ctp_decoder_t *d);
/* Push one received byte. Returns the body length (header+payload+CRC) when a frame with a
 * valid CRC is complete (*body points into the decoder, valid until the next push), else 0. */
uint16_t ctp_decoder_push(ctp_decoder_t *d, uint8_t byte, const uint8_t **body);

uint16_t ctp_get_u16(const uint8_t *p);
uint32_t ctp_get_u32(const uint8_t *p);

#ifdef __cplusplus
}
#endif
#endif
