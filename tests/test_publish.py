"""Publishing chooses what the lens loads; runtimes share one set of inference slots."""

from __future__ import annotations

import dataclasses

import pytest

from smartlens.access import check_password, studio_address
from smartlens.errors import UserError
from smartlens.guide import save_guide
from smartlens.lens.runtime import load_runtime
from smartlens.publish import publish, published_revision, read_published


@pytest.fixture
def guide(settings, demo_guide):
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    g = dataclasses.replace(demo_guide.guide, name="pub")
    return save_guide(g, settings.guides / "pub", files=files).guide.name


@pytest.mark.slow
def test_the_lens_loads_what_is_published(settings, guide):
    assert read_published(guide, settings) is None and published_revision(guide, settings) == ""
    first = load_runtime(guide, settings)
    assert first.method == "retrieval" and first.published == ""
    entry = publish(guide, settings, "retrieval", "baseline")
    assert read_published(guide, settings) == entry and published_revision(guide, settings) == entry.revision
    rt = load_runtime(guide, settings)
    assert rt.published == entry.revision and type(rt.recognizer).__name__ != type(first.recognizer).__name__
    assert rt.slots is first.slots  # one set of inference slots per process, however many runtimes
    explicit = load_runtime(guide, settings, "retrieval", "verified")  # the command line wins
    assert explicit.published == "" and type(explicit.recognizer) is type(first.recognizer)


def test_the_published_revision_is_found_from_the_guide_folder_too(settings, guide):
    # the lens takes --guide as a name or a folder, and asks for each new visitor
    folder = str(settings.guides / guide)
    assert published_revision(folder, settings) == ""
    entry = publish(guide, settings, "retrieval", "baseline")
    assert published_revision(folder, settings) == published_revision(guide, settings) == entry.revision


def test_publishing_a_missing_model_is_refused(settings, guide):
    with pytest.raises(FileNotFoundError, match="no trained classification model"):
        publish(guide, settings, "classification")
    with pytest.raises((FileNotFoundError, UserError)):
        publish(guide, settings, "classification", model="classification-20990101-000000")
    assert read_published(guide, settings) is None


def test_studio_access_rules():
    assert studio_address(None, "") == "127.0.0.1" and studio_address(None, "pw") == "0.0.0.0"
    with pytest.raises(UserError, match="SMARTLENS_STUDIO_PASSWORD"):
        studio_address("0.0.0.0", "")
    assert studio_address("127.0.0.1", "") == "127.0.0.1"
    assert check_password("pw", "pw") and not check_password("pw", "") and not check_password("x", "pw")
