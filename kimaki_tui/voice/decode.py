"""Decode an Ogg Opus stream to 48 kHz mono float samples with libopus (through opuslib).

opuslib is imported on first use: it loads libopus when imported and raises a bare Exception when
the library is missing, which becomes OpusUnavailable here (and only voice messages fail). Packets
are decoded straight into one preallocated numpy buffer through libopus' `opus_decode_float`:
opuslib's own wrappers copy every frame through Python lists, which is twice as slow. A stereo
stream is downmixed by libopus itself (a decoder created for one channel).
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from kimaki_tui.voice.errors import CorruptAudio, OpusUnavailable
from kimaki_tui.voice.opus import RATE, OpusStream

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Libopus:
    create: Any  # opuslib.api.decoder.create_state(fs, channels)
    destroy: Any
    decode_float: Any
    strerror: Any


_LIB: _Libopus | None = None


def libopus() -> _Libopus:
    """libopus' decoder functions; OpusUnavailable when the library cannot be loaded."""
    global _LIB
    if _LIB is None:
        try:
            import opuslib.api.decoder as api
        except Exception as exc:  # opuslib raises a bare Exception when libopus is missing
            log.warning("cannot load libopus: %s", exc)
            raise OpusUnavailable(str(exc).rstrip(".")) from exc
        lib = api.opuslib.api.libopus
        # A fresh function object (CDLL[...] is not cached), so opuslib's own argtypes stay untouched:
        # this one takes the output buffer as a plain address.
        decode_float = lib["opus_decode_float"]
        decode_float.argtypes = (
            api.DecoderPointer,
            ctypes.c_char_p,
            ctypes.c_int32,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_int,
        )
        decode_float.restype = ctypes.c_int
        strerror = lib["opus_strerror"]
        strerror.argtypes = (ctypes.c_int,)
        strerror.restype = ctypes.c_char_p
        _LIB = _Libopus(api.create_state, api.destroy, decode_float, strerror)
    return _LIB


def decode(stream: OpusStream) -> np.ndarray:
    """The stream's audio as float32 mono at 48 kHz: pre-skip and end trimmed, output gain applied."""
    lib = libopus()
    out = np.empty(stream.decoded_samples, dtype=np.float32)
    address = out.ctypes.data
    itemsize = out.itemsize
    state = lib.create(RATE, 1)
    try:
        offset = 0
        for index, (packet, duration) in enumerate(zip(stream.packets, stream.durations, strict=True)):
            got = lib.decode_float(state, packet, len(packet), address + offset * itemsize, duration, 0)
            if got < 0:
                reason = lib.strerror(got).decode(errors="replace")
                raise CorruptAudio(f"Opus packet {index + 1} cannot be decoded ({reason})")
            if got != duration:
                raise CorruptAudio(f"Opus packet {index + 1} decoded to {got} samples, not {duration}")
            offset += got
    finally:
        lib.destroy(state)
    audio = out[stream.start : stream.stop]
    if stream.head.gain:
        audio *= np.float32(stream.head.gain_factor)
    return audio
