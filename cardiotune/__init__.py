"""cardiotune: wearable ECG (and voice) to live music recommendations.

Sub-packages (each a top-level folder of the repository):

- ``cardiotune.edge``            device runtime (light: numpy, onnxruntime, MQTT)
- ``cardiotune.firmware_bridge`` sensor protocol, simulator, serial/LSL bridge
- ``cardiotune.export``          training, evaluation, ONNX export (needs the ``train`` extra)
- ``cardiotune.server``          catalog building and fleet side (needs the ``server`` extra)
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
