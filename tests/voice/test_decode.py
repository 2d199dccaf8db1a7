"""Ogg Opus → 48 kHz samples: byte-identical to opuslib decoding the same packets, with the pre-skip
removed and the end trimmed to the last granule position; headers and damage checked."""

from __future__ import annotations

import ctypes.util
import struct
import sys

import numpy as np
import pytest

from kimaki_tui.voice import decode
from kimaki_tui.voice.errors import CorruptAudio, EmptyAudio, OpusUnavailable, UnsupportedAudio
from kimaki_tui.voice.opus import packet_samples, parse_head, parse_stream
from tests.voice.oggopus import Encoded, encode, ogg_opus, opus_head, opus_tags, tone, write_ogg


def reference(encoded: Encoded) -> np.ndarray:
    """opuslib's own decoder over the same packets, trimmed by hand (mono output)."""
    import opuslib

    decoder = opuslib.Decoder(48_000, 1)
    pcm = b"".join(decoder.decode_float(p, 5760) for p in encoded.packets)
    samples = np.frombuffer(pcm, dtype=np.float32)
    return samples[encoded.pre_skip : encoded.pre_skip + encoded.samples]


def snr_db(signal: np.ndarray, decoded: np.ndarray) -> float:
    noise = decoded - signal
    return float(10 * np.log10(np.sum(signal**2) / np.sum(noise**2)))


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    return tone(1.5)


@pytest.fixture(scope="module")
def encoded(signal: np.ndarray) -> Encoded:
    return encode(signal)


def test_decoding_matches_opuslib_and_honours_pre_skip_and_end_trim(
    signal: np.ndarray, encoded: Encoded
) -> None:
    assert encoded.pre_skip > 0  # the encoder's lookahead (312 at 48 kHz)
    stream = parse_stream(ogg_opus(encoded))
    out = decode.decode(stream)
    assert out.dtype == np.float32
    assert len(out) == len(signal)  # end trimmed to the last granule position
    np.testing.assert_array_equal(out, reference(encoded))
    # With the pre-skip removed the output lines up with the input sample for sample: a lossy
    # codec at 64 kb/s still gives > 25 dB against the original (a shift of even a few samples
    # would drop it below 10 dB at these frequencies).
    assert snr_db(signal, out) > 25
    assert snr_db(signal[:-3], out[3:]) < 10


def test_without_end_trim_every_decoded_sample_after_pre_skip_is_kept(encoded: Encoded) -> None:
    stream = parse_stream(ogg_opus(encoded, trim_end=False))
    assert len(decode.decode(stream)) == len(encoded.packets) * encoded.frame - encoded.pre_skip


def test_packets_spanning_pages_and_a_late_start_decode_the_same(encoded: Encoded) -> None:
    plain = decode.decode(parse_stream(ogg_opus(encoded)))
    split = decode.decode(parse_stream(ogg_opus(encoded, max_segments=1, packets_per_page=1)))
    # A stream cut from a live recording starts at a granule position above zero.
    late = decode.decode(parse_stream(ogg_opus(encoded, first_granule_offset=480_000)))
    np.testing.assert_array_equal(plain, split)
    np.testing.assert_array_equal(plain, late)


def test_stereo_is_downmixed_by_libopus() -> None:
    left, right = tone(0.5, (300.0,)), tone(0.5, (2000.0,))
    encoded = encode(np.stack([left, right], axis=1), channels=2, bitrate=96_000)
    out = decode.decode(parse_stream(ogg_opus(encoded)))
    np.testing.assert_array_equal(out, reference(encoded))
    assert snr_db((left + right) / 2, out) > 15


def test_the_output_gain_is_applied(encoded: Encoded) -> None:
    plain = decode.decode(parse_stream(ogg_opus(encoded)))
    louder = decode.decode(parse_stream(ogg_opus(encoded, gain=-6 * 256)))  # Q7.8 dB
    np.testing.assert_allclose(louder, plain * 10 ** (-6 / 20), rtol=1e-5, atol=1e-7)


def test_packet_durations_come_from_the_toc_byte() -> None:
    assert packet_samples(bytes([(16 << 3) | 0])) == 120  # CELT 2.5 ms, one frame
    assert packet_samples(bytes([(1 << 3) | 1])) == 1920  # SILK 20 ms, two frames
    assert packet_samples(bytes([(3 << 3) | 3, 2])) == 5760  # SILK 60 ms × 2
    with pytest.raises(CorruptAudio, match="frame count"):
        packet_samples(bytes([(3 << 3) | 3, 3]))  # 180 ms: over the 120 ms limit
    with pytest.raises(CorruptAudio, match="frame count"):
        packet_samples(bytes([(31 << 3) | 3, 0]))
    with pytest.raises(CorruptAudio, match="empty"):
        packet_samples(b"")


def test_headers_are_checked() -> None:
    head = parse_head(opus_head(1, 312, gain=256))
    assert (head.channels, head.pre_skip, head.gain) == (1, 312, 256)
    with pytest.raises(UnsupportedAudio, match="no Opus audio"):
        parse_head(b"\x01vorbis" + bytes(30))
    with pytest.raises(UnsupportedAudio, match="6 channels"):
        parse_head(struct.pack("<8sBBHIhB", b"OpusHead", 1, 6, 312, 48000, 0, 1) + bytes(8))
    with pytest.raises(UnsupportedAudio, match="unknown version"):
        parse_head(struct.pack("<8sBBHIhB", b"OpusHead", 0x10, 1, 312, 48000, 0, 0))
    with pytest.raises(CorruptAudio, match="too short"):
        parse_head(b"OpusHead\x01\x01")


def test_streams_without_tags_or_audio_are_refused(encoded: Encoded) -> None:
    head = opus_head(1, 312)
    with pytest.raises(CorruptAudio, match="OpusTags"):
        parse_stream(write_ogg([(head, 0), (encoded.packets[0], 960)], flush_after=[0]))
    with pytest.raises(EmptyAudio):
        parse_stream(write_ogg([(head, 0), (opus_tags(), 0)], flush_after=[0]))
    # All the audio is inside the pre-skip.
    short = write_ogg([(head, 0), (opus_tags(), 0), (encoded.packets[0], 200)], flush_after=[0, 1])
    with pytest.raises(EmptyAudio):
        parse_stream(short)


def test_an_undecodable_packet_is_reported(encoded: Encoded) -> None:
    # Code 3 (CBR) with 2 frames of 20 ms declares 2 equal frames; 4 bytes cannot be split evenly.
    bad = bytes([(31 << 3) | 3, 2, 0xAA, 0xBB, 0xCC])
    packets = [(opus_head(1, 312), 0), (opus_tags(), 0), (encoded.packets[0], 960), (bad, 2880)]
    stream = parse_stream(write_ogg(packets, flush_after=[0, 1]))
    with pytest.raises(CorruptAudio, match="packet 2 cannot be decoded"):
        decode.decode(stream)


def test_missing_libopus_becomes_a_clear_voice_error(
    monkeypatch: pytest.MonkeyPatch, encoded: Encoded
) -> None:
    stream = parse_stream(ogg_opus(encoded))
    # The real failure: opuslib finds no libopus and raises a bare Exception while importing.
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    for name in [m for m in sys.modules if m == "opuslib" or m.startswith("opuslib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(decode, "_LIB", None)
    with pytest.raises(OpusUnavailable) as caught:
        decode.decode(stream)
    assert "libopus" in str(caught.value) and "apt-get install libopus0" in str(caught.value)
    assert "Could not find Opus library" in str(caught.value)
