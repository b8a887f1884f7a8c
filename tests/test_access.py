"""lead_model.data.access: what "Load a file by path" may read on a hosted app, and the settings that say so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lead_model.data.access import FileAccess
from lead_model.errors import LeadModelError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    for name in ("a.csv", "b.parquet", "c.csv.gz", "sub/d.csv", "readme.md", ".secret.csv"):
        (root / name).write_text("x")
    (tmp_path / "outside.csv").write_text("x")
    (root / "escape.csv").symlink_to(tmp_path / "outside.csv")
    (root / "inside.csv").symlink_to(root / "a.csv")
    return root


def test_settings_from_the_environment(folder):
    assert FileAccess.from_env({}) == FileAccess(hosted=False, data_dir=None)
    assert FileAccess.from_env({}).by_path == "any"
    assert FileAccess.from_env({"LEAD_MODEL_HOSTED": "1"}).by_path == "off"
    assert FileAccess.from_env({"LEAD_MODEL_HOSTED": " Yes "}).hosted
    assert not FileAccess.from_env({"LEAD_MODEL_HOSTED": "0"}).hosted
    hosted = FileAccess.from_env({"LEAD_MODEL_HOSTED": "true", "LEAD_MODEL_DATA_DIR": str(folder)})
    assert hosted.by_path == "folder" and hosted.data_dir == folder.resolve()
    assert FileAccess.from_env({"LEAD_MODEL_DATA_DIR": str(folder)}).by_path == "folder"  # a folder limits a local app too


@pytest.mark.parametrize(
    "env, message",
    [
        ({"LEAD_MODEL_HOSTED": "maybe"}, "LEAD_MODEL_HOSTED='maybe' is not yes or no; set it to 1 (hosted for a team) or 0, or unset it."),
        ({"LEAD_MODEL_DATA_DIR": "/no/such/folder"}, "LEAD_MODEL_DATA_DIR='/no/such/folder' is not a folder on this server;"),
    ],
)
def test_a_bad_setting_is_one_sentence(env, message):
    with pytest.raises(LeadModelError) as info:
        FileAccess.from_env(env)
    assert str(info.value).startswith(message)


def test_the_folder_lists_its_data_files_only(folder):
    access = FileAccess(data_dir=folder.resolve())
    # hidden files, non-data files and a link leading out of the folder are not offered; a link inside it is
    assert access.files() == ["a.csv", "b.parquet", "c.csv.gz", "inside.csv", "sub/d.csv"]
    assert access.files(limit=2) == ["a.csv", "b.parquet"]
    assert FileAccess().files() == []


@pytest.mark.parametrize("path", ["a.csv", "sub/d.csv", "sub/../a.csv", "inside.csv", "missing.csv"])
def test_paths_inside_the_folder_resolve(folder, path):
    access = FileAccess(hosted=True, data_dir=folder.resolve())
    resolved = access.resolve(path)
    assert resolved.is_absolute() and folder.resolve() in resolved.parents
    assert access.resolve(str(folder / path)) == resolved  # the same file by its absolute path


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.csv", "sub/../../outside.csv", "escape.csv", "/", ".."])
def test_paths_leading_out_of_the_folder_are_refused(folder, path):
    access = FileAccess(hosted=True, data_dir=folder.resolve())
    with pytest.raises(LeadModelError) as info:
        access.resolve(path)
    assert str(info.value) == (
        f"{path} is outside the data folder {folder.resolve()}; pick one of the files listed, or ask whoever runs the app to put the file in that folder."
    )


def test_hosted_without_a_folder_reads_no_path():
    with pytest.raises(LeadModelError) as info:
        FileAccess(hosted=True).resolve("/etc/passwd")
    assert str(info.value) == (
        "loading a file by path is off on this hosted app; upload the file instead, or ask whoever runs the app to set LEAD_MODEL_DATA_DIR to a folder of lead files."
    )
    assert FileAccess().resolve("/etc/passwd") == Path("/etc/passwd")  # on a workshop laptop the person at the keyboard may


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["..", ".", "sub", "escape.csv", "a.csv", "inside.csv", "%2e", "~", "", " ", "\x00", "/", "\\", "b*?"]), max_size=8).map("/".join))
def test_any_typed_path_resolves_inside_the_folder_or_is_one_sentence(folder, text):
    access = FileAccess(hosted=True, data_dir=folder.resolve())
    try:
        resolved = access.resolve(text)
    except LeadModelError as exc:
        assert "\n" not in str(exc) and str(exc).endswith(".")
        return
    real = os.path.realpath(resolved)
    assert real == str(folder.resolve()) or real.startswith(str(folder.resolve()) + os.sep)
