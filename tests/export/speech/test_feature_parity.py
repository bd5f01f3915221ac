"""The device computes the same log-mel features as training, on real EMO-DB audio:
the device path (replay audio loader + streaming log-mel in 40 ms chunks, as the voice
chain runs) against the training path (``utterance_features``)."""
import numpy as np
import pytest
from cardiotune.edge.sources.files import load_recording
from cardiotune.edge.speech.features import LogMelConfig, StreamingLogMel
from cardiotune.export.speech.features import utterance_features

FILES = ["wav/03a01Fa.wav", "wav/03a01Nc.wav"]


@pytest.mark.parametrize("name", FILES)
def test_streamed_device_features_equal_training_features(data_dir, name):
    path = data_dir / "speech" / "emodb" / name
    cfg = LogMelConfig()
    train = utterance_features(path, cfg, clip_s=2.0)
    audio = load_recording("builtin:demo", audio_path=path).audio  # the replay's audio loader
    stream = StreamingLogMel(cfg)
    device = np.concatenate([stream.push(audio[i:i + 640]) for i in range(0, audio.size, 640)])
    assert train.shape == (198, 40) and device.shape == train.shape
    # same code, same numbers; only FFT/BLAS batching may differ in the last bits
    np.testing.assert_allclose(device, train, rtol=0, atol=1e-5)
