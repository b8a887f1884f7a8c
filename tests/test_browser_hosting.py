"""A hosted app in a real browser: two people's uploads under one name, and no path loading outside the data folder.

One ``streamlit run`` with LEAD_MODEL_HOSTED=1 and a data folder, the sample loaded on start,
two browser contexts (two people). The second person's ``leads.csv`` is an upload named like the
stored sample ('leads'): the page asks, and the first person's data and numbers stay as they were.
"""

from __future__ import annotations

import re
import time

import pytest

import browser_support as bs

pytestmark = bs.browser_marks()


def other_leads(rows: int) -> bytes:
    lines = ["lead_id,segment,visits,converted"] + [f"H{i:04d},{'abc'[i % 3]},{i % 9},{'yes' if i % 4 == 0 else 'no'}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bs.require_browser()
    tmp = tmp_path_factory.mktemp("hosted")
    folder = tmp / "data folder"
    folder.mkdir()
    (folder / "march leads.csv").write_bytes(other_leads(90))
    env = {"LEAD_MODEL_HOSTED": "1", "LEAD_MODEL_DATA_DIR": str(folder)}
    with bs.running_server(bs.SAMPLE_CSV, tmp / "lead_store.duckdb", timeout=90, extra_env=env, log_dir=tmp) as srv:
        yield srv


def data_page(browser, server):
    page = bs.open_page(browser, server.url + "/data", width=1280, height=800)
    bs.wait_app_ready(page, timeout=90)
    return page


def revisit_data(page) -> None:
    """Designer, then Data again, in the top navigation: the same session (a reload would be a new one)."""
    for name in ("Designer", "Data"):
        bs.goto_page(page, name, timeout=90)


def rows_tile(page) -> str | None:
    """The Data page's Rows tile, None while the page is drawn again (a load reruns it)."""
    return bs.metric_texts(page).get("Rows")


def wait_for(page, check, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            bs.wait_idle(page, timeout=30)
            return
        time.sleep(0.1)
    popovers = [p.inner_text() for p in page.locator('[data-testid="stPopoverBody"]').all()]
    raise AssertionError(f"timed out waiting for {what}; popovers: {popovers}; the page says:\n{page.locator('body').inner_text()[:1500]}")


def test_a_second_upload_under_the_same_name_asks_and_leaves_the_first_person_alone(server, browser):
    first, second = data_page(browser, server), data_page(browser, server)
    assert rows_tile(first) == "50,000" and rows_tile(second) == "50,000"

    second.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": other_leads(120)}
    )
    question = second.get_by_text(re.compile(r"A dataset named 'leads' is already stored \(50,000 rows"))
    wait_for(second, lambda: question.count() > 0, "the replace question")
    second.get_by_role("button", name="Load as 'leads-2'").click()
    wait_for(second, lambda: rows_tile(second) == "120", "leads-2 to load")
    assert second.get_by_role("heading", name="leads-2").count() == 1

    revisit_data(first)
    assert rows_tile(first) == "50,000"  # nothing of the second person's reached the first
    assert first.get_by_text("replaced by a newer load").count() == 0

    # the second person replaces 'leads' after all: the first keeps their copy, and is told
    second.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": other_leads(60)}
    )
    wait_for(second, lambda: second.get_by_role("button", name="Replace 'leads'").count() > 0, "the replace question again")
    second.get_by_role("button", name="Replace 'leads'").click()
    wait_for(second, lambda: rows_tile(second) == "60", "the replacing load")
    revisit_data(first)
    assert rows_tile(first) == "50,000"
    assert first.get_by_text(re.compile(r"'leads' in the store was replaced by a newer load \(60 rows")).count() == 1
    # a new session (a reload) opens the server's --data file under a name no upload holds: the uploads stay
    first.reload()
    bs.wait_app_ready(first, timeout=90)
    assert rows_tile(first) == "50,000" and first.get_by_role("heading", name="leads-3").count() == 1
    revisit_data(second)
    assert rows_tile(second) == "60" and second.get_by_text("replaced by a newer load").count() == 0
    for page in (first, second):
        assert page.locator('[data-testid="stException"]').count() == 0
        page.close()


def test_hosted_path_loading_offers_the_data_folder_only(server, browser):
    page = data_page(browser, server)
    assert page.get_by_text("Load a file by path").count() == 0
    page.get_by_text("Load a file from the data folder").click()
    panel = page.locator('[data-testid="stPopoverBody"]')
    picker = panel.locator('[data-testid="stSelectbox"]')
    wait_for(page, lambda: picker.count() > 0, "the folder's file list")
    assert panel.locator("input[type=text]:not([role=combobox])").count() == 0  # no free-text path anywhere
    assert "/" not in panel.inner_text().split("data folder")[1].split("\n")[0]  # a hosted app does not show its server's paths
    picker.click()
    page.get_by_role("option", name="march leads.csv").click()
    panel.get_by_role("button", name="Load file").click()
    wait_for(page, lambda: rows_tile(page) == "90", "the folder's file to load")
    assert page.get_by_role("heading", name="march leads").count() == 1
    page.close()


def test_a_reload_and_a_restart_bring_back_this_browsers_dataset_and_work(tmp_path, browser):
    """F5 opens the tab's dataset again (?dataset= in the URL), not --data; after a restart, the browser's last dataset
    (its XSRF cookie keys its autosaves) opens from a bare bookmark, with the offer; a colleague's browser gets neither."""
    bs.require_browser()
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "march leads.csv").write_bytes(other_leads(300))
    env = {"LEAD_MODEL_HOSTED": "1", "LEAD_MODEL_DATA_DIR": str(folder)}
    store = tmp_path / "lead_store.duckdb"
    first = bs.start_server(bs.SAMPLE_CSV, store, timeout=90, extra_env=env, log_dir=tmp_path)
    second = None
    try:
        page = data_page(browser, first)
        page.get_by_text("Load a file from the data folder").click()
        picker = page.locator('[data-testid="stPopoverBody"] [data-testid="stSelectbox"]')
        wait_for(page, lambda: picker.count() > 0, "the folder's file list")
        picker.click()
        page.get_by_role("option", name="march leads.csv").click()
        page.locator('[data-testid="stPopoverBody"]').get_by_role("button", name="Load file").click()
        wait_for(page, lambda: rows_tile(page) == "300", "the folder's file to load")
        assert "dataset=march" in page.url and "browser=" not in page.url  # the browser's key is its cookie, not the URL
        bs.goto_page(page, "Designer")
        bs.wait_points_sliders(page, timeout=60)
        bs.press_slider(page, "MQL threshold", "ArrowRight", times=2)
        time.sleep(1.0)  # the autosave is written in the background
        offer = page.get_by_text(re.compile(r"Continue where the last session stopped\?.*2 changes"))

        page.reload()  # F5: the same dataset, and this tab's work offered
        bs.wait_app_ready(page, timeout=90)
        wait_for(page, lambda: offer.count() > 0, "this tab's offer after F5")
        assert bs.metric_text(page, "MQLs") is not None and "march leads" in page.locator("body").inner_text()

        colleague = bs.open_page(browser, first.url + bs.DESIGNER_PATH, width=1280, height=800)  # another browser
        bs.wait_app_ready(colleague, timeout=90)
        assert colleague.get_by_text("Continue where the last session stopped?").count() == 0
        assert "march leads" not in colleague.locator("body").inner_text()  # the server's --data, the sample
        colleague.close()

        first.stop()  # the tab stays open while the server restarts
        second = bs.start_server(bs.SAMPLE_CSV, store, timeout=90, extra_env=env, log_dir=tmp_path, port=first.port)
        page.goto(second.url + bs.DESIGNER_PATH)  # a bookmark without the query string, in the same browser
        bs.wait_app_ready(page, timeout=90)
        wait_for(page, lambda: offer.count() > 0, "the offer after the restart")
        assert "march leads" in page.locator("body").inner_text()
        page.close()
    finally:
        for server in (first, second):
            if server is not None:
                server.stop()
