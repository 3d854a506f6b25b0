"""Share the lens: the QR code of the lens' address for the selected guide."""

from __future__ import annotations

import streamlit as st
from shared import current_guide, show_error

from smartlens.errors import UserError
from smartlens.qr import check_url, qr_bytes
from smartlens.tls import lan_addresses

st.header("Share the lens")
ref = current_guide()
assert ref is not None
name = ref.guide.name
hosts = [a for a in lan_addresses() if a != "127.0.0.1"] or ["localhost"]
c1, c2 = st.columns(2)
host = c1.selectbox("This machine's address", hosts)
port = int(c2.number_input("Lens port", 1, 65535, 8501))
url = st.text_input("Lens address", f"https://{host}:{port}/?guide={name}", key=f"url-{name}-{host}-{port}")
try:
    check_url(url)
except UserError as exc:  # a mistyped address is said, not a traceback
    show_error(exc)
    url = ""
if url:
    png = qr_bytes(url, "png", 8)
    st.image(png, width=260, caption=url)
    st.download_button("Download PNG", png, f"smartlens-{name}-qr.png", "image/png")
    st.download_button("Download SVG", qr_bytes(url, "svg", 8), f"smartlens-{name}-qr.svg", "image/svg+xml")
st.caption(
    f"Start the lens for this guide with `python -m smartlens lens --guide {name} --https --port {port}` "
    "(phones open the camera only on https:// pages; a self-signed certificate is made once)."
)
