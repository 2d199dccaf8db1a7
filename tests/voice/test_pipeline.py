"""Attachment bytes → what Gemini gets: Ogg Opus decoded to 16 kHz mono WAV that matches the source,
other formats passed through, length limits enforced before decoding, bad files refused."""

from __future__ import annotations

import io
import struct
import time
import wave

import numpy as np
import pytest

from kimaki_tui.voice import pipeline
from kimaki_tui.voice.errors import AudioTooLong, CorruptAudio, UnsupportedAudio
from kimaki_tui.voice.pipeline import MAX_INLINE_AUDIO, MAX_SECONDS, Audio, prepare_audio, sniff
from kimaki_tui.voice.resample import to_16k
from tests.voice.oggopus import Encoded, encode, ogg_opus, speechlike, write_ogg


def read_wav(data: bytes) -> tuple[int, int, np.ndarray]:
    with wave.open(io.BytesIO(data)) as reader:
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        return reader.getframerate(), reader.getnchannels(), frames


def pcm_wav(seconds: float, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(int(seconds * rate) * 2))
    return out.getvalue()


def test_a_voice_message_becomes_16_khz_wav_matching_the_recording() -> None:
    signal = speechlike(3.0)
    audio = prepare_audio(ogg_opus(encode(signal, bitrate=64_000)))
    assert audio.mime == "audio/wav" and audio.seconds == pytest.approx(3.0)
    rate, channels, frames = read_wav(audio.data)
    assert (rate, channels, len(frames)) == (16_000, 1, 16_000 * 3)
    expected = to_16k(signal)
    got = frames.astype(np.float64) / 32767
    snr = 10 * np.log10(np.sum(expected**2) / np.sum((got - expected) ** 2))
    assert snr > 15


def test_too_long_is_refused_from_the_headers_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    silence = encode(np.zeros(960, dtype=np.float32))
    minutes = 8
    count = minutes * 60 * 50  # 20 ms packets
    long = Encoded([silence.packets[0]] * count, silence.pre_skip, 960, count * 960 - silence.pre_skip, 1)
    data = ogg_opus(long, packets_per_page=200)

    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded audio that was too long anyway")

    monkeypatch.setattr("kimaki_tui.voice.decode.decode", no_decoding)
    started = time.perf_counter()
    with pytest.raises(AudioTooLong) as caught:
        prepare_audio(data)
    assert time.perf_counter() - started < 2.0
    assert str(caught.value) == (
        "The voice message is too long to transcribe (8:00; the limit is 7:00). "
        "Split it into shorter messages."
    )


def test_the_default_limit_fits_gemini_inline_requests() -> None:
    wav_bytes = 44 + MAX_SECONDS * 16_000 * 2
    assert wav_bytes <= MAX_INLINE_AUDIO
    assert 4 * -(-wav_bytes // 3) < pipeline.INLINE_LIMIT  # base64 of it


def test_other_formats_pass_through() -> None:
    wav = pcm_wav(1.5)
    assert prepare_audio(wav) == Audio(wav, "audio/wav", 1.5)
    mp3 = b"ID3\x04\x00\x00" + bytes(200)
    assert prepare_audio(mp3) == Audio(mp3, "audio/mp3", None)
    assert sniff(b"\xff\xfb\x90\x00") == "audio/mp3"
    assert sniff(b"\xff\xf1\x50\x80") == "audio/aac"
    assert sniff(b"fLaC\x00\x00\x00\x22") == "audio/flac"
    assert sniff(b"FORM\x00\x00\x00\x00AIFF") == "audio/aiff"
    vorbis = write_ogg([(b"\x01vorbis" + bytes(22), 0)])
    assert sniff(vorbis) == "audio/ogg"


def test_passed_through_files_are_limited_too() -> None:
    with pytest.raises(AudioTooLong, match=r"too long to transcribe \(8:00"):
        prepare_audio(pcm_wav(8 * 60, rate=8000))
    with pytest.raises(AudioTooLong, match="too large"):
        prepare_audio(b"ID3\x04" + bytes(MAX_INLINE_AUDIO))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00\x00\x20ftypM4A " + bytes(40), "M4A/MP4 audio is not supported"),
        (b"this is not audio at all", "not audio kimaki can transcribe"),
        (write_ogg([(b"\x80theora" + bytes(40), 0)]), "neither Opus nor Vorbis"),
    ],
)
def test_unsupported_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(UnsupportedAudio, match=message):
        prepare_audio(data)


def test_a_damaged_voice_message_is_refused() -> None:
    data = bytearray(ogg_opus(encode(speechlike(1.0))))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(CorruptAudio, match="fails its checksum"):
        prepare_audio(bytes(data))
    # A head that says "Ogg" and "OpusHead" but is cut short.
    with pytest.raises(CorruptAudio, match="ends inside"):
        prepare_audio(bytes(data[:60]))


def test_a_wav_the_standard_library_cannot_read_still_passes() -> None:
    float_wav = (
        b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 3, 1, 16000, 64000, 4, 32)
    )
    assert prepare_audio(float_wav).seconds is None
