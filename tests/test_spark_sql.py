"""spark_sql: each rewrite of the DuckDB -> Spark compiler on the smallest SQL that needs it.
(No Java here: these check the Spark SQL text; tests/test_parity.py runs the rules on Spark.)"""
import datetime as dt

import pytest

import spark_sql
from spark_sql import NotPortable, compile_query, compile_sql


def spark(sql, **variables):
    return compile_query(sql, variables).lower()


def test_macros_are_inlined_with_their_arguments():
    statements = compile_sql("create or replace macro in_window(t) as (t >= getvariable('since'));"
                             "select * from events where in_window(event_time)",
                             {"since": dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)})
    assert len(statements) == 1
    assert "in_window" not in statements[0].lower()
    assert "event_time >= cast('2026-11-01 00:00:00' as timestamp)" in statements[0].lower()


def test_getvariable_becomes_the_runs_value():
    assert "count(*) >= 10" in spark("select count(*) >= getvariable('n') from t", n=10)
    assert "array('a', 'b')" in spark("select list_contains(getvariable('agents'), x) from t", agents=["a", "b"])
    assert "null is null" in spark("select getvariable('since') is null", since=None)


def test_getvariable_without_a_value_is_refused():
    with pytest.raises(NotPortable, match="getvariable"):
        compile_query("select getvariable('missing')", {})


def test_views_become_temporary_views():
    statement = compile_sql("create or replace view v as select 1 as one")[0].lower()
    assert statement.startswith("create or replace temporary view v")


def test_json_arrow_inside_a_function_argument_is_an_extract_not_a_lambda():
    text = spark("select coalesce(request_parameters->'$.bucketName', 'none') from events")
    assert "get_json_object(request_parameters, '$.bucketname')" in text
    assert "->" not in text


def test_ordered_list_keeps_its_order_and_nulls():
    text = spark("select list(source_ip order by event_time, event_id) from events")
    assert "collect_list(named_struct('n0', event_time is null, 'k0', event_time" in text
    assert "array_sort(" in text and "s -> s.v" in text
    assert "collect_list(source_ip)" not in text


def test_descending_list_sorts_the_other_way_with_nulls_last():
    text = spark("select list(x order by t desc, event_id desc) from events")
    assert "sort_array(" in text and "false)" in text
    assert "not t is null" in text


def test_mixed_direction_list_uses_a_comparator():
    text = spark("select list(x order by t desc, event_id) from events")
    assert "array_sort(collect_list" in text and "(l, r) ->" in text


def test_string_agg_is_ordered_and_skips_nulls():
    text = spark("select string_agg(actor, ', ' order by actor, event_id) from events")
    assert text.startswith("select array_join(transform(array_sort(collect_list(")
    assert text.endswith(", ', ') from events")


def test_distinct_list_is_sorted():
    assert "sort_array(collect_set(source_ip), true)" in spark("select list(distinct source_ip) from events")


def test_filtered_list_over_no_rows_is_null_as_in_duckdb():
    text = spark("select list(x order by x) filter (where y) from t")
    assert "if(size(" in text and "filter(where y)" in text.replace(" (", "(")


def test_list_in_a_window_applies_the_window_to_collect_list():
    text = spark("select list(ip) over (partition by a order by t rows between unbounded preceding and 1 preceding) from t")
    assert text.startswith("select transform(collect_list(named_struct('v', ip)) over (partition by a")


@pytest.mark.parametrize("path, expected", [
    ("$.items[*]", "from_json(get_json_object(r, '$.items'), 'array<string>')"),
    ("$.items[*].cidrIp", "transform("),
    ("$.a[*].b[*]", "flatten("),
    ("$.*.Id", "map_values(from_json(r, 'map<string,string>'))"),
])
def test_json_wildcards_give_lists(path, expected):
    text = spark(f"select json_extract_string(r, '{path}') from t")
    assert expected.lower() in text
    assert f"get_json_object(r, '{path.lower()}')" not in text


def test_json_paths_without_wildcards_are_get_json_object():
    assert spark("select r->>'$.a.b', json_extract(r, '$.c') from t") == \
        "select get_json_object(r, '$.a.b'), get_json_object(r, '$.c') from t"


@pytest.mark.parametrize("duckdb, expected", [
    ("l[1]", "try_element_at(l, 1)"),
    ("l[-1]", "try_element_at(l, -1)"),
    ("l[i]", "try_element_at(l, i)"),
    ("l[2:3]", "slice(l, 2, greatest(3 - 2 + 1, 0))"),
])
def test_list_indexes_stay_one_based(duckdb, expected):
    assert expected in spark(f"select {duckdb} from t")


def test_len_of_a_list_is_array_size_and_of_text_is_length():
    text = spark("with x as (select list_filter(l, lambda v: v > 1) as big from t) select len(big), len(name) from x")
    assert "array_size(big)" in text and "length(name)" in text


def test_list_concat_treats_null_as_empty():
    text = spark("select list_concat(a_list, [1]) from t")
    assert "concat(coalesce(a_list, array()), coalesce(array(1), array()))" in text


def test_count_distinct_over_a_window_counts_a_set():
    text = spark("select count(distinct x) over (partition by a) from t")
    assert "size(collect_set(x) over (partition by a))" in text


def test_hash_is_64_bit():
    assert "xxhash64(a)" in spark("select hash(a) from t")


def test_interval_functions_become_literals_for_window_frames():
    text = spark("select count(*) over (order by t range between to_minutes(getvariable('m')::bigint) preceding "
                 "and current row) from t", m=15)
    assert "interval '15' minute preceding" in text


def test_json_casts_leave_text():
    assert spark("select x::json, []::json[] from t") == "select x, cast(array() as array<string>) from t"


def test_small_functions():
    assert "nullif(cast(array_position(l, 'x') as int), 0)" in spark("select list_position(l, 'x') from t")
    assert "rlike concat_ws('', '^(?:', 'ab', ')$')" in spark("select regexp_full_match(a, 'ab') from t")
    assert "unix_micros(t) / 1000000.0" in spark("select epoch(t) from x")
    assert "concat_ws('', a, b)" in spark("select concat(a, b) from t")
    assert "timestamp_seconds(floor(unix_seconds(t) / 300) * 300)" in spark("select time_bucket(interval 5 minute, t) from x")
    assert "map_from_arrays(" in spark("select histogram(event_name) from t")


def test_regexp_replace_replaces_the_first_match_unless_g():
    assert "'^(.*?)(?:'" in spark("select regexp_replace(a, 'x', 'y') from t")
    assert spark("select regexp_replace(a, 'x', 'y', 'g') from t") == "select regexp_replace(a, 'x', 'y') from t"


def test_json_type_is_computed_from_the_text():
    text = spark("select json_type(r, '$.a') from t")
    assert "'object'" in text and "'array'" in text and "get_json_object(r, '$.a')" in text


@pytest.mark.parametrize("sql, message", [
    ("select * from a asof join b on a.t >= b.t", "ASOF JOIN"),
    ("select rowid from events", "rowid"),
    ("select format_bytes(n) from t", "format_bytes"),
])
def test_constructs_without_a_spark_equivalent_are_refused(sql, message):
    with pytest.raises(NotPortable, match=message):
        compile_query(sql)


def test_lint_names_what_to_write_instead():
    problems = spark_sql.portability_problems(
        "select list(x), string_agg(a, ',' order by t), list(y order by t, event_id), hash(e) as h from t")
    assert any("list() without order by" in p and "event_id" in p for p in problems)
    assert any("string_agg() order by t" in p for p in problems)
    assert any("hash()" in p for p in problems)
    assert not any("list() order by t, event_id" in p for p in problems)


def test_lint_accepts_portable_sql():
    assert spark_sql.portability_problems(
        "select event_id, list(event_id order by event_time, event_id) as ids, string_agg(distinct a, ', ' order by a) "
        "from events where event_name = 'X' group by event_id") == []


def test_unnest_inside_an_expression_is_refused_by_the_lint():
    problems = spark_sql.portability_problems("select hash(concat(a, unnest(l))) as k from t")
    assert any("unnest() inside an expression" in p for p in problems)


def test_every_rule_compiles_with_the_case_macros_inlined():
    """A macro the compiler has not seen stays a call Spark cannot resolve (most_severe did):
    compiled as analyze_spark does, no rule may still call one of the case's macros."""
    import re

    import analyze_spark
    import rule_catalogue

    macro_names = set(re.findall(r"create or replace macro (\w+)", analyze_spark.case_macros_sql()))
    assert {"in_window", "severity_rank", "most_severe", "arn_account", "arn_resource"} <= macro_names
    for area in rule_catalogue.areas():
        ctx = spark_sql.Context(dict(area.variables) | {"since": None, "until": None})
        spark_sql.compile_sql(analyze_spark.case_macros_sql(), context=ctx)
        setup = " ".join(spark_sql.compile_sql(area.setup_sql, context=ctx))
        for rule in area.rules:
            if rule.sql is None:
                continue
            compiled = setup + " " + spark_sql.compile_query(rule.sql, context=ctx)
            left = sorted(name for name in macro_names if re.search(rf"\b{name}\s*\(", compiled, re.IGNORECASE))
            assert not left, f"{rule.detection.id}: {left}"


def test_epoch_of_a_time_difference_subtracts_microseconds():
    sql = spark("select epoch(max(t) - min(t)) as seconds from x")
    assert "(unix_micros(max(t)) - unix_micros(min(t))) / 1000000.0" in sql


def test_list_has_any_becomes_arrays_overlap_not_the_operator():
    sql = spark("select 1 from x where list_has_any(a, ['p', 'q'])")
    assert "arrays_overlap(a, array('p', 'q'))" in sql and "&&" not in sql


@pytest.mark.parametrize("function, spark_function", [("list_sum", "aggregate("), ("list_bool_or", "exists(")])
def test_list_sum_and_bool_or_skip_nulls_and_give_null_for_no_values(function, spark_function):
    sql = spark(f"select {function}(a) as v from x")
    assert "case when size(filter(a, v -> not v is null)) = 0 then null else" in sql
    assert f"{spark_function}filter(a, v -> not v is null)" in sql


def test_materialized_cte_hint_is_dropped():
    assert spark("with r as materialized (select 1 as one) select * from r") == "with r as (select 1 as one) select * from r"


def test_to_days_with_a_variable_becomes_a_day_interval():
    assert "make_dt_interval(x, 0, 0, 0)" in spark("select t - to_days(x) from e")
    assert "interval '3' day" in spark("select t - to_days(3) from e")


def test_list_position_is_an_int_index_as_element_at_needs():
    assert "nullif(cast(array_position(a, v) as int), 0)" in spark("select list_position(a, v) from e")


def test_json_type_of_an_unquoted_string_is_varchar_not_double():
    text = spark("select json_type(r, '$.instanceType') from t")
    assert text.endswith("else 'varchar' end from t") and "'double'" in text


def test_cast_to_a_json_list_reads_the_elements_texts():
    assert "from_json(get_json_object(r, '$.a'), 'array<string>')" in spark("select cast(r->'$.a' as json[]) from t")
