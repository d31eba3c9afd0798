"""The portability lint: every rule's SQL (and its area's views) is in the subset that runs the
same on DuckDB and on Spark (spark_sql.portability_problems names what to write instead), and
compiles to Spark SQL. Detections whose logic is Python over the DuckDB connection are listed
as local-only with the reason (see README, Scaling out)."""
import pytest

import rule_catalogue
import spark_sql

AREAS = rule_catalogue.areas()
RULES = [(area, rule) for area in AREAS for rule in area.rules]


@pytest.mark.parametrize("area", AREAS, ids=[area.name for area in AREAS])
def test_area_views_are_portable(area):
    assert spark_sql.portability_problems(area.setup_sql) == []


@pytest.mark.parametrize("area, rule", RULES, ids=[rule.detection.id for _, rule in RULES])
def test_rule_sql_is_portable(area, rule):
    if rule.sql is None:
        pytest.skip(f"local-only: {rule.local_reason}")
    assert spark_sql.portability_problems(rule.sql) == []


@pytest.mark.parametrize("area, rule", RULES, ids=[rule.detection.id for _, rule in RULES])
def test_rule_compiles_to_spark_sql(area, rule):
    if rule.sql is None:
        pytest.skip(f"local-only: {rule.local_reason}")
    context = spark_sql.Context(area.variables | {"since": None, "until": None})
    spark_sql.compile_sql(area.setup_sql, context=context)
    assert spark_sql.compile_query(rule.sql, context=context).lower().startswith(("select", "with"))
