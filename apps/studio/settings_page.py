"""Settings: where the studio keeps things, and how access is set (read-only: the settings come
from smartlens.toml and SMARTLENS_* variables, read when the studio starts)."""

from __future__ import annotations

import streamlit as st
from shared import settings

from smartlens.access import HOW_TO_SET

s = settings()
st.header("Settings")
st.subheader("Access")
if s.studio_password:
    st.success("A studio password is set: staff log in with it.")
else:
    st.warning(
        f"No studio password: this studio listens on this machine only. To open it to the LAN, {HOW_TO_SET}."
    )
st.subheader("Folders and limits")
st.table(
    {
        "data": str(s.data),
        "models": str(s.models),
        "jobs": str(s.data / "jobs"),
        "weights": str(s.weights or "(Keras' ImageNet weights, or none offline)"),
        "offline": str(s.offline),
        "largest picture": f"{s.max_image_pixels / 1e6:.0f} Mpx for work (bigger uploads are downscaled)",
        "threads": str(s.threads),
    }
)
st.caption("Change them in smartlens.toml or with SMARTLENS_* variables, then restart the studio.")
