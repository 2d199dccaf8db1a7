"""An audio attachment's bytes → audio Gemini accepts inline. Ogg Opus (Discord voice messages) is
decoded and sent as 16 kHz mono WAV; WAV, MP3, FLAC, AAC, AIFF and Ogg Vorbis files go as they are.
The format is told by the bytes, not the file name. CPU-bound: run it in a worker thread.
"""

from __future__ import annotations

import io
import logging
import time
import wave
from dataclasses import dataclass

from kimaki_tui.voice.errors import AudioTooLong, UnsupportedAudio

log = logging.getLogger(__name__)

WAV_RATE = 16_000
INLINE_LIMIT = 20 * 1024 * 1024  # Gemini's limit for a whole inline request (audio as base64)
MAX_INLINE_AUDIO = (INLINE_LIMIT - 512 * 1024) * 3 // 4  # raw audio bytes, leaving room for the prompt
# 7 minutes of 16 kHz 16-bit WAV is 13.4 MB, 17.9 MB as base64: inside the inline limit.
MAX_SECONDS = 7 * 60
SUPPORTED = "Ogg Opus (Discord voice messages), WAV, MP3, FLAC, AAC, AIFF or Ogg Vorbis"


@dataclass(frozen=True, slots=True)
class Audio:
    data: bytes
    mime: str
    seconds: float | None = None


def sniff(data: bytes) -> str:
    """The format of `data`: "opus" for Ogg Opus, else the MIME type Gemini knows it by.
    Raises UnsupportedAudio for anything else."""
    head = data[:64]
    if head[:4] == b"OggS":
        if b"OpusHead" in head:
            return "opus"
        if b"\x01vorbis" in head:
            return "audio/ogg"
        raise UnsupportedAudio("This Ogg file holds neither Opus nor Vorbis audio.")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head[:3] == b"ID3":
        return "audio/mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # Frame sync: layer bits 00 mark AAC in ADTS, anything else MPEG audio (MP3).
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mp3"
    if head[4:8] == b"ftyp":
        raise UnsupportedAudio(f"M4A/MP4 audio is not supported; send {SUPPORTED}.")
    raise UnsupportedAudio(f"This file is not audio kimaki can transcribe; send {SUPPORTED}.")


def prepare_audio(data: bytes, *, max_seconds: float = MAX_SECONDS) -> Audio:
    """Raises UnsupportedAudio, CorruptAudio, EmptyAudio, AudioTooLong or OpusUnavailable."""
    kind = sniff(data)
    if kind == "opus":
        return ogg_opus_to_wav(data, max_seconds=max_seconds)
    seconds = _wav_seconds(data) if kind == "audio/wav" else None
    if seconds is not None and seconds > max_seconds:
        raise AudioTooLong(seconds, max_seconds)
    if len(data) > MAX_INLINE_AUDIO:
        raise AudioTooLong(len(data), MAX_INLINE_AUDIO, what="large")
    return Audio(data, kind, seconds)


def ogg_opus_to_wav(data: bytes, *, max_seconds: float = MAX_SECONDS) -> Audio:
    """Ogg Opus → 16 kHz mono 16-bit WAV. The length is checked before anything is decoded."""
    from kimaki_tui.voice import decode, resample, wav
    from kimaki_tui.voice.opus import parse_stream

    started = time.perf_counter()
    stream = parse_stream(data)
    if stream.seconds > max_seconds:
        raise AudioTooLong(stream.seconds, max_seconds)
    samples = resample.to_16k(decode.decode(stream))
    result = Audio(wav.wav_bytes(samples, WAV_RATE), "audio/wav", len(samples) / WAV_RATE)
    log.debug("decoded %.1f s of Ogg Opus in %.3f s", stream.seconds, time.perf_counter() - started)
    return result


def _wav_seconds(data: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            return float(reader.getnframes() / reader.getframerate())
    except (wave.Error, EOFError, ZeroDivisionError):
        return None  # a WAV flavour the stdlib cannot read (float samples, ...): Gemini may still
