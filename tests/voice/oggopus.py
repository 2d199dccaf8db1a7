"""Ogg Opus fixtures made in Python: opuslib's encoder and a small, independent Ogg page writer
(its CRC is the textbook table-driven one, so the reader's zlib-based check is tested against it).
Also used by bench/voice_pipeline.py.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RATE = 48_000
SERIAL = 0x4B494D41


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def reference_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc


def page(serial: int, sequence: int, granule: int, flags: int, lacing: bytes, body: bytes) -> bytes:
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    raw = header + lacing + body
    return raw[:22] + struct.pack("<I", reference_crc(raw)) + raw[26:]


def lacing_of(size: int) -> list[int]:
    return [255] * (size // 255) + [size % 255]


def write_ogg(
    packets: Sequence[tuple[bytes, int]],
    *,
    serial: int = SERIAL,
    max_segments: int = 255,
    flush_after: Sequence[int] = (),
    first_sequence: int = 0,
) -> bytes:
    """Page `(packet, granule after it)` pairs like libogg: a page closes when it holds `max_segments`
    lacing values (a packet may then continue on the next page) or after the packets at the indexes
    in `flush_after`. The first page gets BOS, the last EOS."""
    pages: list[bytes] = []
    lacing: list[int] = []
    body = bytearray()
    granule, continued, sequence = -1, False, first_sequence

    def flush(last: bool) -> None:
        nonlocal lacing, body, granule, continued, sequence
        flags = (
            (0x02 if sequence == first_sequence else 0) | (0x04 if last else 0) | (0x01 if continued else 0)
        )
        pages.append(page(serial, sequence, granule, flags, bytes(lacing), bytes(body)))
        sequence += 1
        lacing, body, granule = [], bytearray(), -1

    for index, (packet, after) in enumerate(packets):
        values = lacing_of(len(packet))
        offset = 0
        for i, value in enumerate(values):
            lacing.append(value)
            body += packet[offset : offset + value]
            offset += value
            if i == len(values) - 1:
                granule = after
            if len(lacing) == max_segments and not (index == len(packets) - 1 and i == len(values) - 1):
                continued_next = i < len(values) - 1
                flush(False)
                continued = continued_next
        if index in flush_after and lacing:
            flush(False)
            continued = False
    flush(True)
    return b"".join(pages)


def opus_head(channels: int, pre_skip: int, *, gain: int = 0, input_rate: int = RATE) -> bytes:
    return struct.pack("<8sBBHIhB", b"OpusHead", 1, channels, pre_skip, input_rate, gain, 0)


def opus_tags(vendor: bytes = b"kimaki tests") -> bytes:
    return b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)


@dataclass
class Encoded:
    packets: list[bytes]
    pre_skip: int
    frame: int
    samples: int  # the signal's length (48 kHz)
    channels: int


def encode(signal: np.ndarray, *, channels: int = 1, frame: int = 960, bitrate: int = 64_000) -> Encoded:
    """Opus packets for float samples at 48 kHz (shape (n,) or (n, 2)), padded to cover the pre-skip."""
    import opuslib

    encoder = opuslib.Encoder(RATE, channels, "audio")
    encoder.bitrate = bitrate
    pre_skip = int(encoder.lookahead)
    samples = signal.reshape(len(signal), channels)
    total = math.ceil((len(samples) + pre_skip) / frame) * frame
    padded = np.zeros((total, channels), dtype=np.float32)
    padded[: len(samples)] = samples
    pcm = np.rint(np.clip(padded, -1, 1) * 32767).astype("<i2")
    packets = [encoder.encode(pcm[i : i + frame].tobytes(), frame) for i in range(0, total, frame)]
    return Encoded(packets, pre_skip, frame, len(samples), channels)


def ogg_opus(
    encoded: Encoded,
    *,
    gain: int = 0,
    trim_end: bool = True,
    packets_per_page: int = 50,
    max_segments: int = 255,
    first_granule_offset: int = 0,
) -> bytes:
    """An Ogg Opus file: OpusHead and OpusTags pages, then the audio (last granule = pre-skip + length
    when `trim_end`, as opusenc writes it)."""
    headers = [(opus_head(encoded.channels, encoded.pre_skip, gain=gain), 0), (opus_tags(), 0)]
    audio = []
    for i, packet in enumerate(encoded.packets):
        audio.append((packet, first_granule_offset + (i + 1) * encoded.frame))
    if trim_end:
        audio[-1] = (audio[-1][0], first_granule_offset + encoded.pre_skip + encoded.samples)
    flush = [0, 1, *(1 + i for i in range(packets_per_page, len(audio), packets_per_page))]
    return write_ogg(headers + audio, max_segments=max_segments, flush_after=flush)


def tone(seconds: float, freqs: Sequence[float] = (440.0, 1250.0), amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave: np.ndarray = np.sum([np.sin(2 * np.pi * f * t) for f in freqs], axis=0)
    result: np.ndarray = (amplitude / len(freqs) * wave).astype(np.float32)
    return result


def speechlike(seconds: float, seed: int = 7) -> np.ndarray:
    """A voice-like test signal: harmonics of a wandering pitch with syllable-rate loudness."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    pitch = 140 + 40 * np.sin(2 * np.pi * 0.7 * t) + 10 * rng.standard_normal(n).cumsum() / math.sqrt(n)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    noise = 0.02 * rng.standard_normal(n)
    return (0.15 * envelope * voiced + noise).astype(np.float32)
