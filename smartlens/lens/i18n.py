"""The lens' own words, per language (the guide's texts come from the guide)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "SmartLens",
        "loading": "Loading the guide and the recogniser…",
        "intro": "Point your camera at an artwork.",
        "start": "Start the lens",
        "stop": "Stop",
        "select_device": "Choose camera",
        "language": "Language",
        "no_artwork": "No artwork recognised yet.",
        "by": "by",
        "details": "Details",
        "tap_detail": "Tap a detail to read about it.",
        "listen": "Listen",
        "read_aloud": "Read aloud",
        "watch": "Watch the video",
        "snapshot": "Camera not working? Take a photo instead",
        "snapshot_label": "Take a photo of an artwork",
        "snapshot_none": "No artwork recognised in the photo: try again closer, with the artwork in the middle.",
        "bad_photo": "This photo cannot be used",
        "stats": "{fps:.1f} frames/s · {ms:.0f} ms per frame",
        "https_needed": "The camera needs a secure (https://) address on phones: ask staff for the right link.",
        "recognised": "Recognised: {title}.",
        "audio_of": "Audio: {name}",
        "video_of": "Video: {name}",
        "transcript": "Transcript",
        "cannot_play": "This browser could not play it.",
        "cannot_speak": "This browser cannot read aloud.",
        "no_such_guide": "There is no guide called “{name}”: showing this one instead.",
    },
    "it": {
        "title": "SmartLens",
        "loading": "Caricamento della guida e del riconoscitore…",
        "intro": "Inquadra un'opera con la fotocamera.",
        "start": "Avvia la lente",
        "stop": "Ferma",
        "select_device": "Scegli la fotocamera",
        "language": "Lingua",
        "no_artwork": "Nessuna opera riconosciuta per ora.",
        "by": "di",
        "details": "Dettagli",
        "tap_detail": "Tocca un dettaglio per saperne di più.",
        "listen": "Ascolta",
        "read_aloud": "Leggi ad alta voce",
        "watch": "Guarda il video",
        "snapshot": "La fotocamera non funziona? Scatta una foto",
        "snapshot_label": "Fotografa un'opera",
        "snapshot_none": "Nessuna opera riconosciuta nella foto: riprova più vicino, con l'opera al centro.",
        "bad_photo": "Questa foto non si può usare",
        "stats": "{fps:.1f} fotogrammi/s · {ms:.0f} ms per fotogramma",
        "https_needed": "Sui telefoni la fotocamera richiede un indirizzo sicuro (https://): chiedi al personale.",
        "recognised": "Riconosciuta: {title}.",
        "audio_of": "Audio: {name}",
        "video_of": "Video: {name}",
        "transcript": "Trascrizione",
        "cannot_play": "Questo browser non è riuscito a riprodurlo.",
        "cannot_speak": "Questo browser non sa leggere ad alta voce.",
        "no_such_guide": "Non c'è una guida chiamata “{name}”: ecco questa.",
    },
}


#: Each language named in itself (the language menu, the captions' labels).
LANGUAGE_NAMES = {"en": "English", "it": "Italiano", "fr": "Français", "de": "Deutsch", "es": "Español"}


def t(key: str, language: str, **values: object) -> str:
    """A UI string in ``language`` (English when missing)."""
    text = STRINGS.get(language, {}).get(key) or STRINGS["en"][key]
    return text.format(**values) if values else text


def pick_language(available: list[str], browser_locale: str | None, default: str) -> str:
    """The browser's language when the guide has it, else the guide's default."""
    if browser_locale:
        lang = browser_locale.replace("_", "-").split("-")[0].lower()
        for candidate in (browser_locale, lang):
            if candidate in available:
                return candidate
    return default
