"""Files the apps serve themselves (page icons), so a visitor's phone contacts no host but the lens.

Streamlit fetches a ``:material/...:`` page icon from a third-party font host; an image file
given as the page icon is served by the app's own server instead.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
#: The lens' page icon (a viewfinder).
LENS_ICON = ASSETS / "lens.svg"
#: The studio's page icon (a palette).
STUDIO_ICON = ASSETS / "studio.svg"
