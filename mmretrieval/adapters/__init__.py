"""Modality adapters: media -> timed text (speech, ocr) and text/media -> vectors (encoders)."""
