"""Mean and sd of the 25 Soundtracks110 features over its 110 excerpts (as published in
soundtrack_features.csv, population sd): the reference for the fallback scorer's z-scores.
Regenerate: mean/std of the FEATURE columns of that file (export.data.music.load_soundtracks110).
"""
MEAN = [
    0.0560801, 1334.11, 1602.14, 2545.13, 0.0676472, -285.157, 140.761, -12.8519, 24.8802, -0.813612,
    4.54912, -3.95293, -0.00708399, -5.28511, 1.07119, -5.93418, -0.430411, -3.7067, -0.932794,
    -3.03743, 0.488333, -1.87219, 1.71623, -1.98698, 0.973019,
]
STD = [
    0.0336448, 447.954, 375.278, 986.121, 0.0281969, 109.54, 30.945, 22.5965, 14.1019, 10.9596, 8.0495,
    8.19922, 8.81485, 7.83187, 7.24481, 6.014, 6.36347, 5.8873, 5.6827, 5.50588, 6.08568, 5.18647,
    4.75555, 5.46449, 7.23185,
]
