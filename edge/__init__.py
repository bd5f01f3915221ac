"""The on-device runtime: sources -> ECG front-end -> VA estimator -> smoothing ->
recommender -> MQTT. Light by rule: numpy, onnxruntime, aiomqtt, and of scipy only the
compiled sosfilt kernel (``dsp.py``; ``import scipy.signal`` alone is ~70 MB). Never torch or
librosa (``tests/edge/test_light_imports.py`` proves it)."""
