"""The web page as a person's browser runs it: headless Chromium, the DOM after the scripts.

To look at it yourself while a daemon runs:
    .venv/bin/python -m tests.support.chromium screenshot http://127.0.0.1:2000/ map.png
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.chromium import ChromiumUnavailable, dump_dom, screenshot
from tests.support.dom import Element, parse_html
from tests.support.xray_documents import USERMGMT, notification_name

from .scenario import Scenario

V1 = notification_name("V1")
V2 = notification_name("V2")


def page(scenario: Scenario, fragment: str = "") -> Element:
    try:
        return parse_html(dump_dom(f"{scenario.xray.base_url}/{fragment}"))
    except ChromiumUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def front_page(scenario: Scenario) -> Element:
    return page(scenario)


def test_the_page_draws_the_map_with_the_expected_nodes(
    front_page: Element, scenario: Scenario
) -> None:
    [body] = front_page.find_all("body")
    assert body.attributes["data-map-state"] == "ready"
    drawn = {
        (g.attributes["data-name"], g.attributes["data-type"]): g
        for g in front_page.find_all("g", class_="node")
    }
    assert set(drawn) == {
        ("Client", "client"),
        (USERMGMT, "service"),
        (V1, "service"),
        (V2, "service"),
        (scenario.database_node, "Database::SQL"),
        (scenario.smtp_host, "remote"),
    }
    for (name, kind), node in drawn.items():
        if kind == "client":
            assert "Client" in node.text
        else:  # labelled for a person: name, type, rate, latency and failure shares
            assert name in node.text and kind in node.text and "req/min" in node.text
            assert " ms" in node.text and "% err" in node.text and "% fault" in node.text
            assert int(node.attributes["data-requests"]) > 0


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (("Client", "client"), (USERMGMT, "service")),
        ((USERMGMT, "service"), (V1, "service")),
        ((USERMGMT, "service"), (V2, "service")),
        ((USERMGMT, "service"), ("{database}", "Database::SQL")),
        ((V1, "service"), ("{smtp}", "remote")),
    ],
    ids=["client->usermgmt", "usermgmt->v1", "usermgmt->v2", "usermgmt->mysql", "v1->smtp"],
)
def test_each_edge_is_drawn_with_its_label(
    front_page: Element, scenario: Scenario, source: tuple[str, str], target: tuple[str, str]
) -> None:
    names = {"{database}": scenario.database_node, "{smtp}": scenario.smtp_host}
    target = (names.get(target[0], target[0]), target[1])
    edges = front_page.find_all(
        "g",
        class_="edge",
        data_source=source[0],
        data_source_type=source[1],
        data_target=target[0],
        data_target_type=target[1],
    )
    assert len(edges) == 1, f"no edge {source} -> {target} drawn"
    [edge] = edges
    assert int(edge.attributes["data-count"]) >= 1
    assert f"{edge.attributes['data-count']} req · " in edge.text and " ms" in edge.text
    assert edge.find_all("path")


def listed(dom: Element) -> set[str]:
    return {
        row.attributes["data-trace-id"]
        for row in dom.find_all("tr")
        if "data-trace-id" in row.attributes
    }


def test_the_trace_list_shows_the_traces(front_page: Element, scenario: Scenario) -> None:
    assert set(scenario.trace_ids) <= listed(front_page)
    [row] = front_page.find_all("tr", data_trace_id=scenario.user_trace)
    assert "POST" in row.text and "201" in row.text and "/usermgmt/user" in row.text


def test_the_filter_box_narrows_the_list(scenario: Scenario) -> None:
    dom = page(scenario, "#filter=" + quote('annotation.app_version = "V2"'))
    shown = listed(dom)
    assert set(scenario.v2_traces) <= shown
    assert not shown & {*scenario.v1_traces, scenario.user_trace}
    [error] = dom.find_all("p", id="filter-error")
    assert "hidden" in error.attributes


def test_a_bad_filter_is_explained_on_the_page(scenario: Scenario) -> None:
    dom = page(scenario, "#filter=" + quote("annotation.app_version ="))
    [error] = dom.find_all("p", id="filter-error")
    assert "hidden" not in error.attributes
    assert "invalid filter expression at character 25" in error.text


def test_a_trace_opens_as_a_timeline_of_segments_and_subsegments(scenario: Scenario) -> None:
    dom = page(scenario, f"#trace={scenario.user_trace}")
    rows = dom.find_all("div", class_="row")
    names = [row.attributes["data-name"] for row in rows]
    assert names[0] == USERMGMT  # the entry segment first, then what it did, nested
    assert {scenario.database_node, "localhost", V1, scenario.smtp_host} <= set(names)
    # The notification segment hangs below the HTTP call that reached it.
    assert names.index(V1) == names.index("localhost") + 1
    segments = [row.attributes["data-name"] for row in dom.find_all("div", class_="segment")]
    assert segments == [USERMGMT, V1]
    assert "hidden" not in dom.find_all("section", id="trace-section")[0].attributes


def test_a_screenshot_can_be_taken_for_people(scenario: Scenario, tmp_path: Path) -> None:
    try:
        path = screenshot(f"{scenario.xray.base_url}/", tmp_path / "map.png")
    except ChromiumUnavailable as exc:
        pytest.fail(str(exc))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
