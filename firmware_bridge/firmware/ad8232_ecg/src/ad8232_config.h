/* Board constants of the reference build: SparkFun AD8232 breakout on an Arduino Uno.
 * Change these for another front-end; they travel to the host in the INFO frame, which is
 * how the host converts counts to millivolts. */
#ifndef AD8232_CONFIG_H
#define AD8232_CONFIG_H

#include "ecg_device.h"

#ifndef AD8232_SERIAL
#define AD8232_SERIAL "CT-000001" /* set per board: -DAD8232_SERIAL='"CT-000042"' */
#endif

/* ADC: 10 bits, AVcc = 5.0 V reference -> 4.8828 mV per count at the ADC pin.
 * AD8232 breakout: total gain 1100 V/V, output centred on its 3.3 V / 2 = 1.65 V reference
 * -> offset 1.65 / 5.0 * 1024 = 338 counts; scale 4882.8 uV / 1100 = 4.4389 uV per count. */
static const ecg_device_config_t AD8232_CONFIG = {
    "AD8232-Uno", AD8232_SERIAL, 1, 0, 0, 10, 4.4389205f, 338, 250000UL,
};

#endif
