"""The Ogg page reader: CRC (against the textbook table-driven one), packets rebuilt across segments
and pages, granule positions, and every kind of damage reported as CorruptAudio."""

from __future__ import annotations

import os
import struct

import pytest

from kimaki_tui.voice.errors import CorruptAudio, UnsupportedAudio
from kimaki_tui.voice.ogg import NO_GRANULE, ogg_crc, read_stream
from tests.voice.oggopus import page, reference_crc, write_ogg


def split_pages(data: bytes) -> list[bytes]:
    pages, pos = [], 0
    while pos < len(data):
        count = data[pos + 26]
        end = pos + 27 + count + sum(data[pos + 27 : pos + 27 + count])
        pages.append(data[pos:end])
        pos = end
    return pages


@pytest.mark.parametrize("size", [0, 1, 3, 4, 255, 1000, 65536])
def test_the_crc_matches_the_table_driven_reference(size: int) -> None:
    data = os.urandom(size)
    assert ogg_crc(data) == reference_crc(data)


def test_packets_are_rebuilt_across_segments_and_pages() -> None:
    sizes = [0, 1, 254, 255, 256, 510, 70_000, 90, 3]
    packets = [bytes([i]) * n for i, n in enumerate(sizes)]
    data = write_ogg([(p, 100 * (i + 1)) for i, p in enumerate(packets)], max_segments=7)
    stream = read_stream(data)
    assert [p.data for p in stream.packets] == packets
    assert stream.pages == len(split_pages(data)) > 40  # the 70 kB packet alone spans 40 pages
    assert stream.eos
    # Only the last packet completed on a page carries the page's granule position.
    by_page: dict[int, list[int]] = {}
    for index, packet in enumerate(stream.packets):
        by_page.setdefault(packet.page, []).append(index)
    for indexes in by_page.values():
        granules = [stream.packets[i].granule for i in indexes]
        assert granules == [NO_GRANULE] * (len(indexes) - 1) + [100 * (indexes[-1] + 1)]
    assert stream.last_granule == 100 * len(packets)


def test_a_damaged_page_fails_its_checksum() -> None:
    data = bytearray(write_ogg([(b"a" * 300, 1), (b"b" * 300, 2), (b"c" * 300, 3)], max_segments=2))
    second = split_pages(bytes(data))[0]
    data[len(second) + 40] ^= 0x01  # one bit in page 2's body
    with pytest.raises(CorruptAudio, match="Ogg page 2 fails its checksum"):
        read_stream(bytes(data))
    assert len(read_stream(bytes(data), check_crc=False).packets) == 3


def test_a_damaged_header_field_fails_its_checksum_too() -> None:
    data = bytearray(write_ogg([(b"x" * 10, 960)]))
    data[6] ^= 0x40  # the granule position
    with pytest.raises(CorruptAudio, match="checksum"):
        read_stream(bytes(data))


def test_what_is_not_ogg_is_refused() -> None:
    with pytest.raises(UnsupportedAudio, match="not an Ogg file"):
        read_stream(b"ID3\x04" + bytes(100))


def test_a_truncated_file_is_reported() -> None:
    data = write_ogg([(b"a" * 500, 1), (b"b" * 500, 2)], max_segments=2)
    with pytest.raises(CorruptAudio, match="ends inside Ogg page"):
        read_stream(data[:-10])
    with pytest.raises(CorruptAudio, match="ends inside Ogg page"):
        read_stream(data[:20])


def test_a_missing_page_is_reported() -> None:
    pages = split_pages(write_ogg([(b"a" * 100, 1), (b"b" * 100, 2), (b"c" * 100, 3)], flush_after=[0, 1]))
    assert len(pages) == 3
    with pytest.raises(CorruptAudio, match="missing before page 2"):
        read_stream(pages[0] + pages[2])


def test_garbage_between_pages_is_reported() -> None:
    pages = split_pages(write_ogg([(b"a" * 100, 1), (b"b" * 100, 2)], flush_after=[0]))
    with pytest.raises(CorruptAudio, match="no capture pattern"):
        read_stream(pages[0] + b"junk" + pages[1])


def test_a_continuation_without_its_start_is_reported() -> None:
    orphan = page(7, 0, 5, 0x02 | 0x01, bytes([10]), b"0123456789")
    with pytest.raises(CorruptAudio, match="never started"):
        read_stream(orphan)
    unterminated = page(7, 0, -1, 0x02, bytes([255]), b"z" * 255)
    fresh = page(7, 1, 9, 0x04, bytes([1]), b"y")
    with pytest.raises(CorruptAudio, match="cut off before Ogg page 2"):
        read_stream(unterminated + fresh)


def test_the_first_page_must_start_a_stream() -> None:
    with pytest.raises(CorruptAudio, match="does not start a stream"):
        read_stream(page(7, 0, 5, 0, bytes([1]), b"a"))


def test_other_logical_streams_are_skipped() -> None:
    ours = split_pages(write_ogg([(b"a" * 50, 1), (b"b" * 50, 2)], flush_after=[0], serial=1))
    other = split_pages(write_ogg([(b"other", 1)], serial=2))
    stream = read_stream(ours[0] + other[0] + ours[1])
    assert stream.serial == 1
    assert [p.data for p in stream.packets] == [b"a" * 50, b"b" * 50]


def test_an_unknown_version_is_reported() -> None:
    raw = bytearray(page(7, 0, 1, 0x02, bytes([1]), b"a"))
    raw[4] = 1
    raw[22:26] = struct.pack("<I", reference_crc(bytes(raw[:22]) + bytes(4) + bytes(raw[26:])))
    with pytest.raises(CorruptAudio, match="unknown version"):
        read_stream(bytes(raw))
