"""PyTorch checkpoint -> ONNX for the edge: declarative specs, one exporter, parity, quantisation.

``cardiotune export <model> --checkpoint … --out …`` (see :mod:`.pipeline`).
"""
