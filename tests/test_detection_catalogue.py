"""Every detection of every detector: well-formed metadata, unique ids, and a query that runs on
an empty case database and returns the standard columns. Also checks the README lists them all."""

import pytest

import casedb
import detections
from conftest import REPO


FOUND = detections.find_detectors(REPO)
MODULES = [module for _, module, _ in FOUND if module]


def test_every_detector_imports():
    assert [(script, problem) for script, _, problem in FOUND if problem] == []
ALL = [(module, detection) for module in MODULES for detection in module.DETECTIONS]


def test_there_are_detectors():
    assert {m.__name__ for m in MODULES} >= {"analyze_console_logins"}


@pytest.mark.parametrize("module, detection", ALL, ids=[d.id for _, d in ALL])
def test_metadata_is_complete(module, detection):
    assert detections.check_detection(detection) == []


def test_ids_are_unique_across_detectors():
    ids = [d.id for _, d in ALL]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_every_query_runs_on_an_empty_database(module, tmp_path):
    con = casedb.connect(str(tmp_path / "empty.db"), create=True)
    try:
        casedb.ensure_schema(con)
        if module.AREA.setup_sql:
            con.execute(module.AREA.setup_sql)
        detections.apply_settings(con, module.AREA.settings)
        outcomes = detections.run_detections(con, module.DETECTIONS)
        assert {o.detection.id: o.error for o in outcomes if o.error} == {}
        assert all(o.findings == [] for o in outcomes)
        for detection in module.DETECTIONS:
            if detection.sql:
                result = con.execute(detection.sql)
                assert tuple(c[0] for c in result.description) == detections.FINDING_COLUMNS
                result.fetchall()
        assert casedb.frame(con, module.AREA.activity_sql).empty
    finally:
        con.close()


def test_readme_lists_every_detection():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [d.id for _, d in ALL if f"`{d.id}`" not in readme]
    assert missing == []
