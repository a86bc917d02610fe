"""Reading media: probe, decode frames and audio with PyAV, subtitles, and cutting into clips."""
