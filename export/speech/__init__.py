"""Speech emotion: log-mel (numpy, shared with the device) -> small CNN -> 7 categories +
valence/arousal mean and log-variance."""
