"""Ogg Opus → 16 kHz mono WAV for a 60 s voice message (what the bot does before asking Gemini).

A 60 s voice-like signal is encoded once with libopus at 32 kb/s, 20 ms frames (like a Discord
voice message), then `kimaki_tui.voice.pipeline.ogg_opus_to_wav` is timed: Ogg pages read with
their CRC checked, libopus decoding at 48 kHz, the Kaiser-windowed low-pass and decimation to
16 kHz, and the WAV written. Target: ≥ 200× real time (≤ 0.3 s). The first run (which loads
libopus) is reported separately; the result is the median of the warm runs.
"""

from __future__ import annotations

import sys
import time

from _common import ROOT, median, result

sys.path.insert(0, str(ROOT))

from kimaki_tui.voice import decode, resample, wav
from kimaki_tui.voice.opus import parse_stream
from kimaki_tui.voice.pipeline import WAV_RATE, ogg_opus_to_wav
from tests.voice.oggopus import encode, ogg_opus, speechlike

SECONDS = 60.0
RUNS = 9


def stages(data: bytes) -> dict[str, float]:
    """One run split by stage, in seconds (for the breakdown line)."""
    marks = [time.perf_counter()]
    stream = parse_stream(data)
    marks.append(time.perf_counter())
    samples = decode.decode(stream)
    marks.append(time.perf_counter())
    low = resample.to_16k(samples)
    marks.append(time.perf_counter())
    wav.wav_bytes(low, WAV_RATE)
    marks.append(time.perf_counter())
    names = ("ogg+crc", "decode", "resample", "wav")
    return {name: marks[i + 1] - marks[i] for i, name in enumerate(names)}


def main() -> None:
    data = ogg_opus(encode(speechlike(SECONDS), bitrate=32_000))
    print(f"{SECONDS:.0f} s voice message: {len(data) / 1024:.0f} KB of Ogg Opus")
    start = time.perf_counter()
    audio = ogg_opus_to_wav(data)
    cold = time.perf_counter() - start
    assert audio.seconds == SECONDS and len(audio.data) == 44 + int(SECONDS * WAV_RATE) * 2
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        ogg_opus_to_wav(data)
        times.append(time.perf_counter() - start)
    split = stages(data)
    print(f"first run (loads libopus) {cold:.3f} s; warm: min {min(times):.3f} s, max {max(times):.3f} s")
    print("one run by stage: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in split.items()))
    seconds = median(times)
    result("voice_ogg_to_wav_60s", seconds, "s", "<=0.3")
    result("voice_ogg_to_wav_realtime_factor", SECONDS / seconds, "x", ">=200")


if __name__ == "__main__":
    main()
