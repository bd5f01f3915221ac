"""The on-device runtime: sources -> ECG front-end -> VA estimator -> smoothing ->
recommender -> MQTT. Light by rule: numpy, scipy, onnxruntime, aiomqtt. Never torch or
librosa (``tests/edge/test_light_imports.py`` proves it)."""
