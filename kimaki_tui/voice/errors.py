"""What can go wrong with a voice message, each as an exception whose message is the reply the
user sees (plain words, what to do next). Nothing here imports Discord, numpy or libopus."""

from __future__ import annotations

import math

from kimaki_tui.errors import KimakiError


class VoiceError(KimakiError):
    """A voice message could not become a transcript; `str(exc)` is the user-facing reason."""


class OpusUnavailable(VoiceError):
    """libopus is not installed (opuslib raises a bare Exception on import)."""

    def __init__(self, detail: str = "") -> None:
        why = f" ({detail})" if detail else ""
        super().__init__(
            "Voice messages need the Opus audio library (libopus), which is not installed on the "
            f"machine running kimaki{why}. Install it (Debian/Ubuntu: `sudo apt-get install libopus0`, "
            "macOS: `brew install opus`) and restart kimaki."
        )


class BadAudio(VoiceError):
    """The file is damaged or is not audio kimaki can read."""


class CorruptAudio(BadAudio):
    """An Ogg Opus file whose pages or packets are damaged."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"The voice message is damaged and cannot be played: {detail}.")


class UnsupportedAudio(BadAudio):
    """Not a format kimaki can transcribe (e.g. M4A, or an Ogg file that holds no Opus audio)."""


class AudioTooLong(VoiceError):
    def __init__(self, seconds: float, limit: float, *, what: str = "long") -> None:
        self.seconds = seconds
        self.limit = limit
        if what == "long":
            text = (
                f"The voice message is too long to transcribe ({_clock(math.ceil(seconds))}; "
                f"the limit is {_clock(math.floor(limit))}). Split it into shorter messages."
            )
        else:
            text = (
                f"The audio file is too large to transcribe ({seconds / 1e6:.1f} MB; "
                f"the limit is {limit / 1e6:.1f} MB)."
            )
        super().__init__(text)


class EmptyAudio(VoiceError):
    def __init__(self) -> None:
        super().__init__("The voice message holds no audio.")


class NoSpeech(VoiceError):
    def __init__(self) -> None:
        super().__init__("No speech was recognised in the voice message.")


class MissingKey(VoiceError):
    def __init__(self) -> None:
        super().__init__("No Gemini API key is set, so voice messages cannot be transcribed.")


class TranscriptionFailed(VoiceError):
    """Gemini answered with an error, or could not be reached."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"Transcription failed: {detail}")


class InvalidKey(TranscriptionFailed):
    """Gemini refused the API key (wrong, revoked, or without access to the model)."""


class TranscriptionTimeout(TranscriptionFailed):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"Gemini did not answer within {seconds:g} s. Try again in a moment.")


def _clock(whole: int) -> str:
    return f"{whole // 60}:{whole % 60:02d}"
