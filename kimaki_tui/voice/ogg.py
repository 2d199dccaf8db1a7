"""Read an Ogg file into the packets of its first logical stream (RFC 3533): pages are checked
(capture pattern, version, CRC, sequence numbers) and packets are rebuilt across segments and pages.

Ogg's CRC is CRC-32 with polynomial 0x04C11DB7, MSB first, initial value 0 and no final xor — not
zlib's reflected CRC-32. It is computed with zlib anyway (C speed): a reflected CRC over
bit-reversed bytes equals the bit-reversed plain CRC, and zlib's start value 0xFFFFFFFF cancels its
initial xor. Pure Python, no numpy or libopus.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from kimaki_tui.voice.errors import CorruptAudio, UnsupportedAudio

CAPTURE = b"OggS"
HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments
FLAG_CONTINUED, FLAG_BOS, FLAG_EOS = 0x01, 0x02, 0x04
NO_GRANULE = -1  # a page on which no packet ends
_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_ZERO_CRC = bytes(4)


@dataclass(frozen=True, slots=True)
class Packet:
    """One packet; `granule` is its page's granule position when it is the last packet completed on
    that page (as libogg reports it), else NO_GRANULE. `page` counts the stream's pages from 0."""

    data: bytes
    granule: int
    page: int


@dataclass(slots=True)
class OggStream:
    serial: int
    packets: list[Packet] = field(default_factory=list)
    pages: int = 0
    eos: bool = False

    @property
    def last_granule(self) -> int:
        for packet in reversed(self.packets):
            if packet.granule != NO_GRANULE:
                return packet.granule
        return NO_GRANULE


def ogg_crc(data: bytes | bytearray | memoryview, *, reversed_input: bool = False) -> int:
    """Ogg's page checksum of `data` (pass bytes already bit-reversed with `reversed_input`)."""
    flipped = data if reversed_input else bytes(data).translate(_REVERSED_BITS)
    register = zlib.crc32(flipped, 0xFFFFFFFF) ^ 0xFFFFFFFF
    return _reverse32(register)


def _reverse32(value: int) -> int:
    return int.from_bytes(value.to_bytes(4, "little").translate(_REVERSED_BITS), "big")


def is_ogg(data: bytes) -> bool:
    return data[:4] == CAPTURE


def read_stream(data: bytes, *, check_crc: bool = True) -> OggStream:
    """The first logical stream of an Ogg file; pages of other streams (multiplexed) are skipped.
    Raises CorruptAudio for a damaged file and UnsupportedAudio for something that is not Ogg."""
    if not is_ogg(data):
        raise UnsupportedAudio("This is not an Ogg file.")
    reader = _Reader(data, check_crc)
    return reader.run()


class _Reader:
    def __init__(self, data: bytes, check_crc: bool) -> None:
        self.data = data
        self.view = memoryview(data)
        self.flipped = memoryview(data.translate(_REVERSED_BITS)) if check_crc else None
        self.stream: OggStream | None = None
        self.partial: list[bytes] = []
        self.sequence = -1

    def run(self) -> OggStream:
        pos, index = 0, 0
        while pos < len(self.data):
            pos = self._page(pos, index)
            index += 1
        stream = self.stream
        assert stream is not None  # the first page made it (or raised)
        # A packet still open at the end was cut off (a truncated upload): it is dropped, and the
        # end trim falls back to the last granule position that was read.
        return stream

    def _page(self, pos: int, index: int) -> int:
        data = self.data
        if len(data) - pos < HEADER.size:
            raise CorruptAudio(f"the file ends inside Ogg page {index + 1}")
        capture, version, flags, granule, serial, sequence, crc, count = HEADER.unpack_from(data, pos)
        if capture != CAPTURE:
            raise CorruptAudio(f"Ogg page {index + 1} is missing (no capture pattern at byte {pos})")
        if version != 0:
            raise CorruptAudio(f"Ogg page {index + 1} has an unknown version {version}")
        body = pos + HEADER.size + int(count)
        lacing = data[pos + HEADER.size : body]
        end = body + sum(lacing)
        if len(lacing) < count or end > len(data):
            raise CorruptAudio(f"the file ends inside Ogg page {index + 1}")
        if self.flipped is not None and self._crc(pos, end) != crc:
            raise CorruptAudio(f"Ogg page {index + 1} fails its checksum")
        if self.stream is None:
            if not flags & FLAG_BOS:
                raise CorruptAudio("the first Ogg page does not start a stream")
            self.stream = OggStream(serial)
        if serial == self.stream.serial and not self.stream.eos:
            self._check_sequence(sequence, index)
            self._packets(flags, granule, lacing, body)
        return end

    def _crc(self, pos: int, end: int) -> int:
        flipped = self.flipped
        assert flipped is not None
        # The checksum covers the page with its own CRC field read as zero.
        register = zlib.crc32(flipped[pos : pos + 22], 0xFFFFFFFF)
        register = zlib.crc32(_ZERO_CRC, register)
        register = zlib.crc32(flipped[pos + 26 : end], register) ^ 0xFFFFFFFF
        return _reverse32(register)

    def _check_sequence(self, sequence: int, index: int) -> None:
        if self.sequence >= 0 and sequence != self.sequence + 1:
            raise CorruptAudio(f"Ogg pages are missing before page {index + 1}")
        self.sequence = sequence

    def _packets(self, flags: int, granule: int, lacing: bytes, body: int) -> None:
        stream = self.stream
        assert stream is not None
        continued = bool(flags & FLAG_CONTINUED)
        if continued != bool(self.partial):
            where = f"Ogg page {stream.pages + 1}"
            raise CorruptAudio(
                f"{where} continues a packet that never started"
                if continued
                else f"a packet is cut off before {where}"
            )
        ended: list[bytes] = []
        offset = body
        for size in lacing:
            self.partial.append(bytes(self.view[offset : offset + size]))
            offset += size
            if size < 255:
                ended.append(b"".join(self.partial))
                self.partial = []
        page = stream.pages
        for i, packet in enumerate(ended):
            last = i == len(ended) - 1
            stream.packets.append(Packet(packet, granule if last else NO_GRANULE, page))
        stream.pages += 1
        stream.eos = bool(flags & FLAG_EOS)
