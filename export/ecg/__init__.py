"""ECG/HRV -> valence/arousal mean and variance: synthetic training data through the real
front-end, a small GRU encoder, training and evaluation (incl. MIT-BIH heart rate)."""
