"""Guide and artworks: create a guide, its languages, upload pictures, texts per language,
the gallery with each artwork's state, delete with confirmation, and the curators' concepts."""

from __future__ import annotations

import streamlit as st
from shared import (
    current_guide,
    edit_base,
    guide_names,
    language,
    saved,
    section,
    settings,
    show_error,
    toast,
)

from smartlens.errors import USER_ERRORS, UserError
from smartlens.escaping import plain
from smartlens.guide import Guide, guide_dir, save_guide
from smartlens.guide import edit as guide_edit
from smartlens.publish import read_published
from smartlens.storage import check_id

ss = st.session_state
toast()
st.header("Guide and artworks")

# forms named by a round that grows with every save: the next one starts blank, while a refused one
# keeps what the curator typed
ss.setdefault("form_round", 0)
with (
    section("Create a guide", "open-new-guide", expanded=not guide_names()),
    st.form(f"new-guide-{ss.form_round}"),
):
    c1, c2, c3 = st.columns(3)
    new_name = c1.text_input("Name (letters, digits, dashes)", placeholder="my-museum")
    new_title = c2.text_input("Title", placeholder="My museum")
    new_langs = c3.text_input("Languages (comma separated, the first is the default)", "en, it")
    if st.form_submit_button("Create the guide", type="primary"):
        try:
            langs = [x.strip() for x in new_langs.split(",") if x.strip()]
            name = check_id(new_name.strip(), "guide name")
            if not langs:
                raise UserError("give the guide at least one language (the first is the default)")
            if (guide_dir(name, settings()) / "guide.json").is_file():
                raise UserError(f"there is a guide called '{name}' already: choose it in the sidebar")
            guide = Guide(name, langs, langs[0], title={langs[0]: new_title or name})
            save_guide(guide, guide_dir(name, settings()), limits=settings().image_limits)
        except USER_ERRORS as exc:
            show_error(exc)
        else:
            ss.guide = name
            ss.toast = f"Guide '{name}' created"
            ss.form_round += 1
            st.rerun()

ref = current_guide()
assert ref is not None
guide = ref.guide
lang = language(ref)
published = read_published(guide.name, settings())
st.caption(
    f"{len(guide.artworks)} artworks · {sum(len(a.details) for a in guide.artworks)} details · "
    f"languages {', '.join(guide.languages)} (default {guide.default_language}) · "
    f"lens uses: {published.label if published else 'retrieval (nothing published yet)'}"
)

with section("Languages and title", "open-languages"), st.form("languages"):
    langs_text = st.text_input("Languages (comma separated)", ", ".join(guide.languages))
    default = st.text_input("Default language", guide.default_language)
    title = st.text_input(f"Guide title ({lang})", guide.title.get(lang, ""))
    if st.form_submit_button("Save"):
        # edits against the page as drawn: what another curator saved since is kept, or the edit refused
        ok = saved(guide_edit.set_languages, edit_base(ref), langs_text.split(","), default.strip())
        if ok and title != guide.title.get(lang, ""):
            ok = saved(guide_edit.set_guide_title, edit_base(ref), lang, title)
        if ok:
            st.rerun()

# --- upload -------------------------------------------------------------------------------------
st.subheader("Add artworks")
ss.setdefault("upload_round", 0)
files = st.file_uploader(
    "Pictures (JPEG, PNG or WebP; several at once)",
    type=list(guide_edit.UPLOAD_TYPES),
    accept_multiple_files=True,
    key=f"upload-{ss.upload_round}",
)
if st.button("Add these pictures", type="primary"):
    if not files:
        st.warning("Choose one or more pictures first.")
    else:
        added, failed = [], []
        for f in files:
            try:
                ref = guide_edit.add_artwork(
                    ref, f.getvalue(), f.name, "", lang, 2400, settings().image_limits
                )
                added.append(ref.guide.artworks[-1].id)
            except USER_ERRORS as exc:
                failed.append(str(exc))
        ss.upload_round += 1  # a fresh, empty uploader: a second click adds nothing twice
        ss.upload_report = (added, failed)
        st.rerun()
if report := ss.pop("upload_report", None):
    added, failed = report
    if added:
        st.success(f"Added {len(added)} artwork(s): {', '.join(added)}")
    for msg in failed:
        st.error(plain(msg))

# --- gallery ------------------------------------------------------------------------------------
missing = guide_edit.missing_translations(guide)
if missing:
    with st.expander(f":orange[{len(missing)} texts still to translate]"):
        st.write("\n".join(f"- {plain(m)}" for m in missing))
published_ids: set[str] = set()
if published and published.model:
    import json

    classes = (published.model_dir(settings()) or ref.root) / "classes.json"
    try:
        published_ids = {c.split("/")[0] for c in json.loads(classes.read_text())}
    except (OSError, ValueError):
        published_ids = set()

st.subheader("Artworks")
for art in guide.artworks:
    todo = [x for x in ("title", "description") if not getattr(art, x).get(lang)]
    state = [f"{len(art.details)} details" if art.details else ":orange[not annotated]"]
    if published and published.model:
        state.append(
            "in the published model" if art.id in published_ids else ":orange[not in the published model]"
        )
    if todo:
        state.append(f":orange[missing {', '.join(todo)} ({lang})]")
    # stays open while the curator saves in it (its label changes with the title)
    with section(f"{plain(guide.text(art.title, lang))} — {art.id} · {' · '.join(state)}", f"open-{art.id}"):
        c1, c2 = st.columns([1, 2])
        c1.image(str(ref.path(art.image)), width=260)
        c1.caption(f"{art.width}x{art.height}" + (" · original kept" if art.original else ""))
        with c2.form(f"texts-{art.id}"):
            title = st.text_input(f"Title ({lang})", art.title.get(lang, ""))
            author = st.text_input(f"Author ({lang})", art.author.get(lang, ""))
            year = st.text_input(f"Year ({lang})", art.year.get(lang, ""))
            desc = st.text_area(f"Description ({lang})", art.description.get(lang, ""))
            if st.form_submit_button(f"Save texts ({lang})") and saved(
                guide_edit.set_texts, edit_base(ref), art.id, lang, title, author, year, desc
            ):
                st.rerun()
        if ss.get("confirm_delete") == art.id:
            st.warning(f"Delete '{plain(guide.text(art.title, lang))}', its details and its picture?")
            d1, d2 = st.columns(2)
            if d1.button("Yes, delete it", key=f"yes-{art.id}", type="primary"):
                ss.confirm_delete = None
                if saved(guide_edit.remove_artwork, edit_base(ref), art.id, message="Deleted"):
                    st.rerun()
            if d2.button("Cancel", key=f"no-{art.id}"):
                ss.confirm_delete = None
                st.rerun()
        elif st.button("Delete this artwork…", key=f"rm-{art.id}"):
            ss.confirm_delete = art.id
            st.rerun()

# --- concepts -----------------------------------------------------------------------------------
st.subheader("Concepts")
st.caption("Kinds of detail you name once and reuse on every artwork (a face, a signature, a hand).")
for c in guide.concepts:
    names = " · ".join(f"{k}: {plain(v)}" for k, v in c.name.items())
    missing_names = [x for x in guide.languages if not c.name.get(x)]
    flag = f" :orange[(missing {', '.join(missing_names)})]" if missing_names else ""
    st.markdown(f"- **{c.id}** — {names}{flag}")
with st.form(f"concept-{ss.form_round}"):
    cols = st.columns(1 + len(guide.languages))
    cid = cols[0].text_input("Concept id", placeholder="face")
    cnames = {x: cols[i + 1].text_input(f"Name ({x})") for i, x in enumerate(guide.languages)}
    if st.form_submit_button("Add or rename the concept") and saved(
        guide_edit.set_concept, edit_base(ref), cid.strip(), cnames
    ):
        ss.form_round += 1  # the next concept starts blank
        st.rerun()
