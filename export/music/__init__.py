"""Music encoder: audio features -> valence/arousal (+ variance) and an embedding."""
