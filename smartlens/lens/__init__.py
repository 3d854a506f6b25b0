"""The visitors' lens: per-frame processing, overlays, stable results, speech, UI texts."""
