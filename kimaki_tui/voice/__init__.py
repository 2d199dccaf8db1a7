"""Voice messages → text: Ogg Opus pages (ogg, opus) → libopus decode (decode) → 16 kHz low-pass
and decimate (resample) → WAV (wav), run together by `pipeline.prepare_audio`, then Gemini
transcription (transcribe) with the project's file tree as context (context).

Importing this package is cheap: numpy, libopus and google-genai load only when audio is handled.
"""
