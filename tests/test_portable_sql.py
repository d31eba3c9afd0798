"""The portability lint: every rule's SQL (and its area's views) is in the subset that runs the
same on DuckDB and on Spark (spark_sql.portability_problems names what to write instead), and
compiles to Spark SQL. Detections whose logic is Python over the DuckDB connection are listed
as local-only with the reason in rule_catalogue.LOCAL_ONLY and in README, Scaling out; the tests
skip exactly those."""
import re
from pathlib import Path

import pytest

import rule_catalogue
import spark_sql

AREAS = rule_catalogue.areas()
RULES = [(area, rule) for area in AREAS for rule in area.rules]
README = Path(__file__).resolve().parent.parent / "README.md"


def skip_if_local_only(rule):
    """Skips exactly the rules without SQL listed in LOCAL_ONLY (with the reason); any other rule
    must have SQL (the lineage rules and the one too large for Spark have SQL and are linted)."""
    if rule.detection.id in set(rule_catalogue.LOCAL_ONLY) - set(rule_catalogue.NEEDS_LINEAGE) - set(rule_catalogue.TOO_LARGE_FOR_SPARK):
        pytest.skip(f"local-only: {rule_catalogue.LOCAL_ONLY[rule.detection.id]}")
    assert rule.sql is not None, (f"{rule.detection.id} cannot run elsewhere ({rule.local_reason}): make it "
                                  "portable, or list it in rule_catalogue.LOCAL_ONLY and README with the reason")


@pytest.mark.parametrize("area", AREAS, ids=[area.name for area in AREAS])
def test_area_views_are_portable(area):
    assert spark_sql.portability_problems(area.setup_sql) == []


@pytest.mark.parametrize("area, rule", RULES, ids=[rule.detection.id for _, rule in RULES])
def test_rule_sql_is_portable(area, rule):
    skip_if_local_only(rule)
    assert spark_sql.portability_problems(rule.sql) == []


@pytest.mark.parametrize("area, rule", RULES, ids=[rule.detection.id for _, rule in RULES])
def test_rule_compiles_to_spark_sql(area, rule):
    skip_if_local_only(rule)
    context = spark_sql.Context(area.variables | {"since": None, "until": None})
    spark_sql.compile_sql(area.setup_sql, context=context)
    assert spark_sql.compile_query(rule.sql, context=context).lower().startswith(("select", "with"))


def test_local_only_names_exactly_the_rules_without_sql():
    without_sql = {rule.detection.id for _, rule in RULES if rule.sql is None}
    assert without_sql == set(rule_catalogue.LOCAL_ONLY) - set(rule_catalogue.NEEDS_LINEAGE) - set(rule_catalogue.TOO_LARGE_FOR_SPARK)
    for _, rule in RULES:
        if rule.detection.id in rule_catalogue.LOCAL_ONLY:
            assert rule.local_reason == rule_catalogue.LOCAL_ONLY[rule.detection.id]


def test_readme_scaling_out_lists_every_local_only_rule_with_its_reason():
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Scaling out\n")
    end = text.find("\n## ", start + 1)
    section = " ".join(text[start:end if end > 0 else len(text)].split())
    for detection_id, reason in rule_catalogue.LOCAL_ONLY.items():
        assert f"`{detection_id}`: {' '.join(reason.split())}" in section, detection_id
    listed = set(re.findall(r"^- `([a-z0-9_]+)`: ", text[start:end if end > 0 else len(text)], re.M))
    local_list = {d for d in listed if d in {rule.detection.id for _, rule in RULES}}
    assert local_list == set(rule_catalogue.LOCAL_ONLY)
