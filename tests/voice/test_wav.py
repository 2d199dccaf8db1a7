"""The WAV writer's files read back with the standard library."""

from __future__ import annotations

import io
import wave

import numpy as np

from kimaki_tui.voice.wav import to_pcm16, wav_bytes


def test_a_wav_file_reads_back_with_the_standard_library() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 1.7, -3.0], dtype=np.float32)
    data = wav_bytes(samples, 16_000)
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16_000)
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    assert frames.tolist() == [0, 16384, -16384, 32767, -32767, 32767, -32767]
    assert len(data) == 44 + 2 * len(samples)


def test_rounding_is_to_nearest() -> None:
    assert to_pcm16(np.array([0.4 / 32767, 0.6 / 32767, -0.6 / 32767])).tolist() == [0, 1, -1]
