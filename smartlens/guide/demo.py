"""The built-in demo guide: six paintings drawn by :mod:`smartlens.synth.pictures`, in English and
Italian.

Made on first use (``python -m smartlens demo``), so the project ships no image files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2

from ..config import Settings
from ..synth.pictures import DEMO_PAINTERS
from .model import Artwork, Detail, Guide
from .store import GUIDE_FILE, GuideRef, load_guide, save_guide

DEMO_NAME = "demo"

#: id -> (title en/it, author, year, description en/it, {detail id: (name en/it, text en/it)})
_TEXTS: dict[str, tuple] = {
    "harbour-at-dawn": (
        ("Harbour at Dawn", "Porto all'alba"),
        "Ada Lumen",
        "2026",
        (
            "A striped lighthouse watches two sailing boats as the sun rises over a pink sky.",
            "Un faro a strisce sorveglia due barche a vela mentre il sole sorge in un cielo rosa.",
        ),
        {
            "sun": (
                ("The rising sun", "Il sole nascente"),
                (
                    "Sixteen rays, each painted with a single stroke.",
                    "Sedici raggi, ognuno dipinto con una sola pennellata.",
                ),
            ),
            "lighthouse": (
                ("The lighthouse", "Il faro"),
                (
                    "Red and white bands make it visible from far away.",
                    "Le fasce rosse e bianche lo rendono visibile da lontano.",
                ),
            ),
            "boat": (
                ("The sailing boat", "La barca a vela"),
                (
                    "A blue jib and a white mainsail catch the morning wind.",
                    "Un fiocco blu e una randa bianca prendono il vento del mattino.",
                ),
            ),
        },
    ),
    "the-blue-house": (
        ("The Blue House", "La casa blu"),
        "Ada Lumen",
        "2025",
        (
            "A house in the countryside, with a path leading the eye to its door.",
            "Una casa di campagna, con un sentiero che guida lo sguardo alla porta.",
        ),
        {
            "house": (
                ("The house", "La casa"),
                (
                    "Two lit windows and a chimney: someone is home.",
                    "Due finestre accese e un camino: qualcuno è in casa.",
                ),
            ),
            "tree": (
                ("The old tree", "Il vecchio albero"),
                (
                    "Its crown is built from fourteen overlapping circles.",
                    "La chioma è fatta di quattordici cerchi sovrapposti.",
                ),
            ),
            "signature": (
                ("The signature", "La firma"),
                (
                    "The painter signed in the bottom-left corner.",
                    "La pittrice ha firmato nell'angolo in basso a sinistra.",
                ),
            ),
        },
    ),
    "mountain-lake-by-night": (
        ("Mountain Lake by Night", "Lago di montagna di notte"),
        "Bruno Veda",
        "2024",
        (
            "A crescent moon over a snowy peak and a lake ringed by pines.",
            "Una falce di luna su una vetta innevata e un lago circondato da pini.",
        ),
        {
            "moon": (
                ("The crescent moon", "La falce di luna"),
                (
                    "Stars are scattered around it like sparks.",
                    "Le stelle sono sparse intorno come scintille.",
                ),
            ),
            "peak": (
                ("The snowy peak", "La vetta innevata"),
                ("The only white in the painting.", "L'unico bianco del dipinto."),
            ),
            "pines": (
                ("The pine wood", "La pineta"),
                ("Nine pines of slightly different heights.", "Nove pini di altezze leggermente diverse."),
            ),
        },
    ),
    "circles-and-lines": (
        ("Circles and Lines", "Cerchi e linee"),
        "Carla Segno",
        "2023",
        (
            "An abstract composition in the spirit of the early twentieth-century avant-garde.",
            "Una composizione astratta nello spirito delle avanguardie del primo Novecento.",
        ),
        {
            "composition": (
                ("Concentric circles", "Cerchi concentrici"),
                (
                    "Five rings crossed by four black lines and a triangle.",
                    "Cinque anelli attraversati da quattro linee nere e un triangolo.",
                ),
            ),
            "red-circle": (
                ("The red target", "Il bersaglio rosso"),
                (
                    "Red, yellow and black: the painting's focal point.",
                    "Rosso, giallo e nero: il punto focale del dipinto.",
                ),
            ),
            "bars": (
                ("Colour bars", "Barre di colore"),
                ("Six bars like a painter's palette.", "Sei barre come la tavolozza di un pittore."),
            ),
        },
    ),
    "portrait-of-a-stranger": (
        ("Portrait of a Stranger", "Ritratto di uno sconosciuto"),
        "Bruno Veda",
        "2022",
        (
            "A man in a top hat looks straight at the visitor.",
            "Un uomo con il cilindro guarda dritto verso il visitatore.",
        ),
        {
            "face": (
                ("The face", "Il volto"),
                ("A faint smile and raised eyebrows.", "Un lieve sorriso e le sopracciglia alzate."),
            ),
            "hat": (
                ("The top hat", "Il cilindro"),
                ("A red band circles the black hat.", "Un nastro rosso cinge il cappello nero."),
            ),
            "signature": (
                ("The signature", "La firma"),
                (
                    "Signed in pale ink at the bottom right.",
                    "Firmato con inchiostro chiaro in basso a destra.",
                ),
            ),
        },
    ),
    "still-life-with-roses": (
        ("Still Life with Roses", "Natura morta con rose"),
        "Carla Segno",
        "2021",
        (
            "Seven flowers in a striped vase, with fruit on the table.",
            "Sette fiori in un vaso a righe, con frutta sul tavolo.",
        ),
        {
            "vase": (
                ("The striped vase", "Il vaso a righe"),
                ("Three white stripes give it volume.", "Tre righe bianche gli danno volume."),
            ),
            "rose": (
                ("The central rose", "La rosa centrale"),
                ("The tallest flower, at the top of the bouquet.", "Il fiore più alto, in cima al mazzo."),
            ),
            "fruit": (
                ("The fruit", "La frutta"),
                ("Cherries, an orange and a green apple.", "Ciliegie, un'arancia e una mela verde."),
            ),
        },
    ),
}


def build_demo(dest: Path) -> GuideRef:
    """Paint the demo artworks and save them as a guide folder at ``dest``."""
    guide = Guide(
        name=DEMO_NAME,
        languages=["en", "it"],
        default_language="en",
        title={"en": "SmartLens demo gallery", "it": "Galleria dimostrativa SmartLens"},
    )
    with tempfile.TemporaryDirectory(prefix="smartlens-demo-") as tmp:
        files: dict[str, Path] = {}
        for art_id, (painter, seed) in DEMO_PAINTERS.items():
            canvas = painter(seed)
            title, author, year, desc, details = _TEXTS[art_id]
            rel = f"images/{art_id}.jpg"
            files[rel] = Path(tmp) / f"{art_id}.jpg"
            cv2.imwrite(str(files[rel]), canvas.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            w, h = canvas.size
            art = Artwork(
                id=art_id,
                image=rel,
                width=w,
                height=h,
                title=dict(zip(("en", "it"), title)),
                author={"en": author},
                year={"en": year},
                description=dict(zip(("en", "it"), desc)),
            )
            for det_id, (name, text) in details.items():
                art.details.append(
                    Detail(
                        id=det_id,
                        box=canvas.motifs[det_id],
                        name=dict(zip(("en", "it"), name)),
                        description=dict(zip(("en", "it"), text)),
                    )
                )
            guide.artworks.append(art)
        return save_guide(guide, dest, files=files, replace=True)


def ensure_demo(settings: Settings, force: bool = False) -> GuideRef:
    """The demo guide, created on first use (or again with ``force``)."""
    dest = settings.guides / DEMO_NAME
    if force or not (dest / GUIDE_FILE).is_file():
        return build_demo(dest)
    return load_guide(dest, settings)
