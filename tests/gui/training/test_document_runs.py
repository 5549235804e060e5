"""Which runs follow the document to its first file, and when: those this window started while it had none
(a live one once it ends, even one whose data was still loading at the save), never other documents' runs;
Save As leaves runs with the file they were made for; another document forgets them."""

import os

from engine.graph.templates import load_template
from engine.training import create_run
from gui.training.document_runs import DocumentRuns


def cached_run():
    return create_run(load_template("mlp_fashion_mnist")).folder


def test_only_the_documents_own_runs_move_and_a_live_one_when_it_ends(tmp_path):
    runs = DocumentRuns()
    other, done, live = cached_run(), cached_run(), cached_run()
    runs.run_started(done, unsaved_document=True)
    runs.run_started(live, unsaved_document=True)
    report = runs.file_changed(str(tmp_path / "net.llnet"), live_folder=live)
    destination = str(tmp_path / "net.runs")
    assert report.moved == [(done, os.path.join(destination, os.path.basename(done)))] and not report.failed
    assert os.path.isdir(other) and os.path.isdir(live)
    assert runs.run_ended(other) is None
    assert runs.run_ended(live).moved == [(live, os.path.join(destination, os.path.basename(live)))]
    assert sorted(os.listdir(destination)) == sorted(map(os.path.basename, (done, live)))


def test_a_run_whose_data_was_loading_at_the_save_moves_when_it_ends(tmp_path):
    runs = DocumentRuns()
    assert runs.file_changed(str(tmp_path / "net.llnet")) is None  # nothing made yet
    folder = cached_run()
    runs.run_started(folder, unsaved_document=True)  # the job was started before the save
    assert runs.run_ended(folder).moved[0][1].startswith(str(tmp_path / "net.runs"))


def test_save_as_leaves_runs_with_the_earlier_file_and_another_document_forgets(tmp_path):
    runs = DocumentRuns()
    runs.run_started(cached_run(), unsaved_document=True)
    runs.file_changed(str(tmp_path / "a.llnet"))
    assert runs.file_changed(str(tmp_path / "b.llnet")) is None
    assert runs.earlier_runs == str(tmp_path / "a.runs") and len(os.listdir(tmp_path / "a.runs")) == 1
    runs.forget()
    folder = cached_run()
    runs.run_started(folder, unsaved_document=False)  # a continued run of another document: never moved
    assert runs.file_changed(str(tmp_path / "c.llnet")) is None and os.path.isdir(folder)
    assert runs.earlier_runs is None
