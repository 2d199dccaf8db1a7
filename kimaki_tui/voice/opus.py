"""What an Ogg Opus stream holds (RFC 7845): the OpusHead header, the audio packets with their
durations (from each packet's TOC byte, RFC 6716 §3.1), and which decoded samples to keep — the
pre-skip removed at the start and the end trimmed to the last granule position. All positions are
48 kHz samples, whatever rate the audio was recorded at. Pure Python.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kimaki_tui.voice.errors import CorruptAudio, EmptyAudio, UnsupportedAudio
from kimaki_tui.voice.ogg import NO_GRANULE, OggStream, read_stream

RATE = 48_000
HEAD_MAGIC = b"OpusHead"
TAGS_MAGIC = b"OpusTags"
_HEAD = struct.Struct("<8sBBHIhB")  # magic, version, channels, pre-skip, input rate, gain, mapping family
MAX_PACKET_SAMPLES = 5760  # 120 ms
# Frame sizes in 48 kHz samples by TOC config: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
_FRAME_SAMPLES = (480, 960, 1920, 2880) * 3 + (480, 960) * 2 + (120, 240, 480, 960) * 4


@dataclass(frozen=True, slots=True)
class OpusHead:
    channels: int
    pre_skip: int
    input_rate: int
    gain: int  # Q7.8 dB, applied to the decoded output
    mapping_family: int

    @property
    def gain_factor(self) -> float:
        return float(10 ** (self.gain / (20 * 256)))


@dataclass(frozen=True, slots=True)
class OpusStream:
    """Audio packets and their durations; keep decoded samples [start, stop) of the concatenation."""

    head: OpusHead
    packets: list[bytes]
    durations: list[int]
    start: int
    stop: int

    @property
    def decoded_samples(self) -> int:
        return sum(self.durations)

    @property
    def seconds(self) -> float:
        return (self.stop - self.start) / RATE


def is_opus_head(packet: bytes) -> bool:
    return packet[:8] == HEAD_MAGIC


def parse_head(packet: bytes) -> OpusHead:
    if not is_opus_head(packet):
        raise UnsupportedAudio("This Ogg file holds no Opus audio.")
    if len(packet) < _HEAD.size:
        raise CorruptAudio("its OpusHead header is too short")
    _, version, channels, pre_skip, input_rate, gain, family = _HEAD.unpack_from(packet)
    if version >> 4 != 0:
        raise UnsupportedAudio(f"This Ogg Opus file uses an unknown version ({version}).")
    if channels == 0:
        raise CorruptAudio("its OpusHead header says it has no channels")
    if family != 0 or channels > 2:
        # Surround streams need libopus' multistream decoder; voice messages are mono.
        raise UnsupportedAudio(
            f"Ogg Opus with {channels} channels (mapping family {family}) is not supported."
        )
    return OpusHead(channels, pre_skip, input_rate, gain, family)


def packet_samples(packet: bytes) -> int:
    """The packet's duration in 48 kHz samples, from its TOC byte (and frame count byte)."""
    if not packet:
        raise CorruptAudio("an Opus packet is empty")
    toc = packet[0]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        if len(packet) < 2:
            raise CorruptAudio("an Opus packet lacks its frame count")
        frames = packet[1] & 0x3F
    samples = frames * _FRAME_SAMPLES[toc >> 3]
    if frames == 0 or samples > MAX_PACKET_SAMPLES:
        raise CorruptAudio("an Opus packet has an invalid frame count")
    return samples


def parse_stream(data: bytes, *, check_crc: bool = True) -> OpusStream:
    """Read an Ogg Opus file (without decoding it): raises UnsupportedAudio, CorruptAudio, EmptyAudio."""
    ogg = read_stream(data, check_crc=check_crc)
    if not ogg.packets:
        raise CorruptAudio("it has no packets")
    head = parse_head(ogg.packets[0].data)
    if len(ogg.packets) < 2 or ogg.packets[1].data[:8] != TAGS_MAGIC:
        raise CorruptAudio("its OpusTags header is missing")
    audio = ogg.packets[2:]
    if not audio:
        raise EmptyAudio()
    durations = [packet_samples(p.data) for p in audio]
    start, stop = _keep(ogg, head, durations)
    if stop <= start:
        raise EmptyAudio()
    return OpusStream(head, [p.data for p in audio], durations, start, stop)


def _keep(ogg: OggStream, head: OpusHead, durations: list[int]) -> tuple[int, int]:
    """The decoded samples to keep: [pre-skip, end), with `end` set by the last granule position.

    Granule positions count from the stream's first sample, so the first audio page tells where the
    decoded audio begins in that count (a live stream may start later than 0); the pre-skip is
    dropped from there and the last granule position marks the end (RFC 7845 §4.3, §4.5)."""
    audio = ogg.packets[2:]
    first_page = audio[0].page
    first = [i for i, p in enumerate(audio) if p.page == first_page]
    first_granule = audio[first[-1]].granule
    base = first_granule - sum(durations[i] for i in first)
    last_page = audio[-1].page == first_page
    if base < 0:
        # Only a stream that ends on its first audio page may have fewer samples than it decodes.
        if not last_page:
            raise CorruptAudio("its first audio page has an impossible granule position")
        base = 0
    total = sum(durations)
    last = ogg.last_granule
    end = total if last == NO_GRANULE else min(total, last - base)
    return min(head.pre_skip, total), end
