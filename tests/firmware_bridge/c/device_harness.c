/* Host harness for ecg_device.c (the board-independent firmware logic). Commands on stdin:
 *   S raw lo      the sampling ISR delivers one sample (lo: lead-off bits)
 *   P             the main loop polls: prints the frame in hex, or "-"
 *   R hex         bytes from the host
 *   START / STOP / INFO
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad8232_config.h"
#include "ecg_device.h"

int main(void) {
    static ecg_device_t dev;
    static uint8_t wire[CTP_MAX_WIRE];
    char line[4096];
    ecg_device_init(&dev, &AD8232_CONFIG);
    while (fgets(line, sizeof line, stdin)) {
        if (line[0] == 'S' && line[1] == ' ') {
            unsigned raw, lo;
            sscanf(line + 2, "%u %u", &raw, &lo);
            ecg_device_isr_sample(&dev, (uint16_t)raw, (uint8_t)lo);
        } else if (line[0] == 'P') {
            uint16_t n = ecg_device_poll(&dev, wire, sizeof wire), i;
            if (!n) printf("-");
            for (i = 0; i < n; i++) printf("%02x", wire[i]);
            printf("\n");
        } else if (line[0] == 'R') {
            const char *h = line + 2;
            unsigned v;
            while (sscanf(h, "%2x", &v) == 1) {
                ecg_device_rx(&dev, (uint8_t)v);
                h += 2;
            }
        } else if (strncmp(line, "START", 5) == 0) {
            ecg_device_start(&dev);
        } else if (strncmp(line, "STOP", 4) == 0) {
            ecg_device_stop(&dev);
        } else if (strncmp(line, "INFO", 4) == 0) {
            ecg_device_request_info(&dev);
        }
    }
    printf("overruns %lu\n", (unsigned long)dev.overruns);
    return 0;
}
