/* Host test harness for ctp.c: reads frame descriptions on stdin, prints wire bytes in hex.
 * One line per frame (all numbers decimal, strings as hex or "-" for empty):
 *   D stream seq flags status fmt channels n rate_mhz sample_index t_us s0 s1 ...
 *   I stream seq flags major minor patch rate_mhz adc_bits model serial nch {scale_bits offset label}
 *   C stream seq flags command arg
 *   A stream seq flags command command_seq result value
 *   L stream seq flags level text
 *   X hexbytes            -> feeds the decoder: "F <body hex>" per frame, then
 *                            "S frames crc_errors framing_errors oversize"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctp.h"

static char line[1 << 16];
static uint8_t wire[CTP_MAX_WIRE];

static long num(void) {
    char *t = strtok(NULL, " \n");
    if (!t) {
        fprintf(stderr, "harness: missing field\n");
        exit(2);
    }
    return strtol(t, NULL, 10);
}

static unsigned unhex(const char *h, uint8_t *out) {
    unsigned n = 0;
    if (strcmp(h, "-") == 0) return 0;
    while (h[0] && h[1]) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static void str_field(ctp_writer_t *w) {
    static uint8_t buf[300];
    char s[300];
    unsigned n = unhex(strtok(NULL, " \n"), buf);
    memcpy(s, buf, n);
    s[n] = 0;
    ctp_put_str(w, s);
}

static void print_hex(const uint8_t *p, unsigned n) {
    unsigned i;
    for (i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

int main(void) {
    static ctp_decoder_t dec;
    static uint8_t bytes[1 << 15];
    ctp_decoder_init(&dec);
    while (fgets(line, sizeof line, stdin)) {
        char *kind = strtok(line, " \n");
        ctp_writer_t w;
        uint16_t n;
        if (!kind) continue;
        if (kind[0] == 'X') {
            unsigned i, len = unhex(strtok(NULL, " \n"), bytes);
            const uint8_t *body;
            for (i = 0; i < len; i++) {
                n = ctp_decoder_push(&dec, bytes[i], &body);
                if (n) {
                    printf("F ");
                    print_hex(body, n);
                }
            }
            printf("S %lu %lu %lu %lu\n", (unsigned long)dec.frames, (unsigned long)dec.crc_errors,
                   (unsigned long)dec.framing_errors, (unsigned long)dec.oversize);
            continue;
        }
        {
            uint8_t stream = (uint8_t)num();
            uint16_t seq = (uint16_t)num();
            uint8_t flags = (uint8_t)num();
            if (kind[0] == 'D') {
                uint8_t status = (uint8_t)num(), fmt = (uint8_t)num(), ch = (uint8_t)num(), k = (uint8_t)num();
                uint32_t rate = (uint32_t)num(), idx = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10);
                uint32_t t = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10);
                unsigned i;
                ctp_begin_data(&w, wire, sizeof wire, flags, stream, seq, status, fmt, ch, k, rate, idx, t);
                for (i = 0; i < (unsigned)ch * k; i++) {
                    long v = num();
                    if (fmt == CTP_FMT_INT16) ctp_put_i16(&w, (int16_t)v); else ctp_put_i24(&w, (int32_t)v);
                }
            } else if (kind[0] == 'I') {
                uint8_t major = (uint8_t)num(), minor = (uint8_t)num();
                uint16_t patch = (uint16_t)num();
                uint32_t rate = (uint32_t)num();
                uint8_t bits = (uint8_t)num(), nch, i;
                ctp_begin(&w, wire, sizeof wire, CTP_INFO, flags, stream, seq);
                ctp_put_u8(&w, major);
                ctp_put_u8(&w, minor);
                ctp_put_u16(&w, patch);
                ctp_put_u32(&w, rate);
                ctp_put_u8(&w, bits);
                str_field(&w);
                str_field(&w);
                nch = (uint8_t)num();
                ctp_put_u8(&w, nch);
                for (i = 0; i < nch; i++) {
                    uint32_t bitsf = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10);
                    ctp_put_u32(&w, bitsf);
                    ctp_put_u32(&w, (uint32_t)(int32_t)num());
                    str_field(&w);
                }
            } else if (kind[0] == 'C') {
                ctp_begin(&w, wire, sizeof wire, CTP_CONTROL, flags, stream, seq);
                ctp_put_u8(&w, (uint8_t)num());
                ctp_put_u32(&w, (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10));
            } else if (kind[0] == 'A') {
                uint8_t cmd = (uint8_t)num();
                uint16_t cseq = (uint16_t)num();
                uint8_t res = (uint8_t)num();
                uint32_t val = (uint32_t)strtoul(strtok(NULL, " \n"), NULL, 10);
                n = ctp_encode_ack(wire, sizeof wire, stream, seq, cmd, cseq, res, val);
                print_hex(wire, n);
                continue;
            } else if (kind[0] == 'L') {
                static uint8_t text[300];
                unsigned tl;
                ctp_begin(&w, wire, sizeof wire, CTP_LOG, flags, stream, seq);
                ctp_put_u8(&w, (uint8_t)num());
                tl = unhex(strtok(NULL, " \n"), text);
                ctp_put_bytes(&w, text, (uint16_t)tl);
            } else {
                fprintf(stderr, "harness: unknown kind %s\n", kind);
                return 2;
            }
            n = ctp_end(&w);
            if (n == 0) printf("ERROR\n"); else print_hex(wire, n);
        }
    }
    return 0;
}
