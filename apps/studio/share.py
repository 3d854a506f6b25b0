"""Share the lens: the QR code of the lens' address for the selected guide (the address and port
the lens was last started on with this data folder, so the code opens the real lens)."""

from __future__ import annotations

import streamlit as st
from shared import current_guide, settings, show_error

from smartlens.errors import UserError
from smartlens.lens.address import lens_url, read_lens_address
from smartlens.lens.i18n import LANGUAGE_NAMES
from smartlens.qr import check_url, qr_bytes
from smartlens.tls import lan_addresses

st.header("Share the lens")
ref = current_guide()
assert ref is not None
name = ref.guide.name
known = read_lens_address(settings())
if known:
    hosts, port, scheme = known.hosts, known.port, known.scheme
    st.caption(f"The lens was last started here at {scheme}://{', '.join(hosts)} on port {port}.")
else:
    hosts, port, scheme = [a for a in lan_addresses() if a != "127.0.0.1"] or ["localhost"], 8501, "https"
    st.warning("No lens has been started with this studio's data yet: check the address and the port.")
c1, c2, c3 = st.columns(3)
host = c1.selectbox("This machine's address", hosts)
port = int(c2.number_input("Lens port", 1, 65535, port))
languages = ["", *ref.guide.languages]
visitor_lang = c3.selectbox(
    "Language the lens opens in",
    languages,
    format_func=lambda x: LANGUAGE_NAMES.get(x, x) if x else "the phone's language",
)
url = st.text_input(
    "Lens address",
    lens_url(scheme, host, port, name, visitor_lang or None),
    key=f"url-{name}-{host}-{port}-{visitor_lang}",
)
try:
    check_url(url)
except UserError as exc:  # a mistyped address is said, not a traceback
    show_error(exc)
    url = ""
if url:
    png = qr_bytes(url, "png", 8)
    st.image(png, width=260, alt=f"QR code of {url}")  # the address is in the field above
    st.download_button("Download PNG", png, f"smartlens-{name}-qr.png", "image/png")
    st.download_button("Download SVG", qr_bytes(url, "svg", 8), f"smartlens-{name}-qr.svg", "image/svg+xml")
st.caption(
    f"Start the lens for visitors with `python -m smartlens lens --https --port {port}` "
    "(phones open the camera only on https:// pages; a self-signed certificate is made once); "
    "each code opens its own guide."
)
