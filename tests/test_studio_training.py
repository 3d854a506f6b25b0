"""A training started from the studio's Train page runs to the end as a process; a restarted
studio finds it finished with its metrics, publishes it, and the lens then loads that model."""

from __future__ import annotations

import dataclasses
import time

import pytest
from test_studio import button, studio, studio_guide  # noqa: F401  (a fixture, used by name)

from smartlens.imaging import read_image
from smartlens.jobs import list_jobs
from smartlens.lens.runtime import load_runtime
from smartlens.publish import read_published

from conftest import EMBEDDER, needs_embedder
from conftest import SESSION_SETTINGS as SETTINGS

BUDGET_MINUTES = 0.5


@pytest.fixture
def with_embedder(monkeypatch):
    """The studio started with the pretrained feature extractor as its weights setting."""
    import shared  # the studio's own module (apps/studio is on sys.path)

    monkeypatch.setenv("SMARTLENS_WEIGHTS", str(EMBEDDER))
    shared.settings.clear()
    yield dataclasses.replace(SETTINGS, weights=EMBEDDER)
    monkeypatch.delenv("SMARTLENS_WEIGHTS")
    shared.settings.clear()


@pytest.mark.slow
@needs_embedder
def test_train_from_the_page_restart_publish_and_the_lens_loads_it(studio_guide, with_embedder):  # noqa: F811
    from shared import training_curve

    name = studio_guide.guide.name
    at = studio("train.py", guide=name)
    at.checkbox(key="train-classification-frozen_features").check()  # the fast route, a .tflite is set
    at.run()  # the form is drawn again without what that route does not use
    shown = {n.key for n in at.number_input} | {s.key for s in at.selectbox}
    assert "train-classification-input_size" not in shown and "train-classification-epochs" in shown
    values = {"budget_minutes": BUDGET_MINUTES, "epochs": 40, "per_image": 6, "negatives": 12}
    values |= {"val_per_image": 2, "val_negatives": 4}
    for field, value in values.items():
        at.number_input(key=f"train-classification-{field}").set_value(value)
    button(at, "Start training").click()
    at.run()
    assert not at.exception, at.exception
    jobs = list_jobs(SETTINGS, name, "train")
    assert len(jobs) == 1 and jobs[0].spec.params["frozen_features"] is True
    assert jobs[0].spec.params["val_per_image"] == 2 and jobs[0].spec.params["val_negatives"] == 4

    deadline = time.time() + BUDGET_MINUTES * 60 + 150  # the budget, the process' start, a busy machine
    while list_jobs(SETTINGS, name, "train")[0].running and time.time() < deadline:
        time.sleep(1)
    job = list_jobs(SETTINGS, name, "train")[0]
    assert job.state == "done", (job.status, job.log_tail())
    # the budget holds for the job's own time (views included), plus a minute
    assert job.seconds <= BUDGET_MINUTES * 60 + 60, job.seconds
    model = job.status.result["model"]
    assert {"artwork_top1", "negatives_fp", "views"} <= set(job.status.result["report"])
    assert model in job.status.result["summary"] and "report set" in job.status.result["summary"]
    assert not training_curve(job.progress_lines()).empty  # the curve the page charts

    # a restarted studio (a fresh session, nothing in memory) lists it finished, with its model
    again = studio("train.py", guide=name)
    assert any("**done**" in m.value for m in again.markdown), [m.value for m in again.markdown]
    assert not again.button or not any(b.label == "Cancel" for b in again.button)
    table = again.dataframe[0].value
    assert model in list(table["model"]) and table.set_index("model").loc[model, "method"] == "Classification"
    assert "report set" in table.set_index("model").loc[model, "report-set figures"]
    # the Publish list names models by method, date and report figures (and folder)
    label = next(o for o in again.selectbox(key="publish-choice").options if model in o)
    assert label.startswith("Classification · ") and "report: top-1" in label
    again.selectbox(key="publish-choice").select(label)
    button(again, "Publish").click()
    again.run()
    assert not again.exception, again.exception
    entry = read_published(name, SETTINGS)
    assert entry is not None and entry.method == "classification" and entry.model == model
    assert any(model in m.value for m in again.markdown)  # "Published: classification <model>"

    # the lens started without a method loads what was published
    rt = load_runtime(name, with_embedder)
    assert rt.method == "classification" and rt.published == entry.revision
    assert rt.recognizer.model_dir.name == model  # type: ignore[attr-defined]
    art = studio_guide.guide.artworks[0]
    result = rt.recognizer.recognize(read_image(studio_guide.path(art.image)))
    assert result.method == "classification"
