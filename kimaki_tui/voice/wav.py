"""16-bit PCM WAV files from float samples (what Gemini is sent): clip, round, add a RIFF header."""

from __future__ import annotations

import struct

import numpy as np

_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] → little-endian int16 (clipped, rounded to nearest)."""
    scaled = np.clip(samples, -1.0, 1.0) * 32767.0
    pcm: np.ndarray = np.rint(scaled).astype("<i2")
    return pcm


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    """A WAV file of float samples (interleaved when `channels` > 1) as 16-bit PCM."""
    pcm = to_pcm16(samples).tobytes()
    block = 2 * channels
    header = _HEADER.pack(
        b"RIFF", 36 + len(pcm), b"WAVE",
        b"fmt ", 16, 1, channels, rate, rate * block, block, 16,
        b"data", len(pcm),
    )  # fmt: skip
    return header + pcm
