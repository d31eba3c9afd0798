"""Every Stratus Red Team technique in ../shared/data/stratus-red-team is found by a detection
other than the offensive-tool user-agent match, and the README's technique -> detection table
says which (issue 12)."""
import re
from collections import defaultdict

import pytest

import rules
from conftest import REPO, SHARED_DATA, detect, ingest, labelled_records, needs_shared_data

USER_AGENT_CATCH_ALL = "api_called_from_offensive_tool"


@pytest.fixture(scope="module")
def found_by_technique(tmp_path_factory):
    """{technique: {detection ids whose findings include one of its labelled events}}."""
    db = tmp_path_factory.mktemp("stratus") / "stratus.db"
    assert ingest(db, SHARED_DATA / "stratus-red-team" / "s3") == 0
    fired = defaultdict(set)
    for area in rules.AREAS:
        for detection_id, findings in detect(db, area).items():
            for finding in findings:
                for event_id in finding["event_ids"]:
                    fired[event_id].add(detection_id)
    techniques = defaultdict(set)
    for label in labelled_records("stratus-red-team/labels.jsonl"):
        techniques[label["technique"]] |= fired.get(label["eventID"], set()) - {USER_AGENT_CATCH_ALL}
    return techniques


def readme_table():
    """{technique: {detection ids}} from the README's Stratus table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- stratus:start -->", 1)[1].split("<!-- stratus:end -->", 1)[0]
    table = {}
    for line in block.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`aws."):
            table[cells[0].strip("`")] = set(re.findall(r"`([a-z0-9_]+)`", cells[-1]))
    return table


@needs_shared_data
def test_every_stratus_technique_is_found_without_the_user_agent(found_by_technique):
    missing = sorted(technique for technique, detections in found_by_technique.items() if not detections)
    assert not missing, f"found only by the user-agent match or not at all: {missing}"


@needs_shared_data
def test_readme_table_names_the_detections_that_find_each_technique(found_by_technique):
    table = readme_table()
    assert set(table) == set(found_by_technique)
    for technique, detections in table.items():
        assert detections and detections <= found_by_technique[technique], technique
