"""Compiles the detections' DuckDB SQL to Spark SQL: sqlglot (pinned in requirements.txt) parses
and writes the SQL, and the rewrites below fix what a plain transpile gets silently wrong.

    statements = spark_sql.compile_sql(duckdb_sql, variables={"since": None, ...})

Each rewrite is one function over the parsed tree (duckdb dialect), listed in REWRITES in the
order they run, with a unit test in tests/test_spark_sql.py. What a plain transpile gets wrong:

  macros            DuckDB macros (in_window) do not exist in Spark: inlined with their arguments
  variables         getvariable('x') does not exist in Spark: replaced by the run's value (a literal,
                    so a window frame like `range between 10 minutes preceding` stays a literal)
  temporary views   `create or replace view` would write to Spark's catalog: a temporary view
  json lambdas      `a->'$.k'` inside a function argument is parsed as a lambda: a JSON extract
  ordered lists     list(x order by t) becomes an unordered collect_list that also drops NULLs:
                    transform(array_sort(collect_list(struct(t is null, t, x))), s -> s.x)
  string_agg        the same for string_agg(x, sep order by t) (array_join skips NULLs, as DuckDB)
  json wildcards    '$.a[*].b' becomes get_json_object (one JSON text, a single match unwrapped):
                    from_json(get_json_object(j, '$.a'), 'array<string>') then transform/flatten,
                    dropping missing matches as DuckDB does
  list indexes      l[i] is 1-based in DuckDB and 0-based in Spark (only literal indexes were
                    shifted): try_element_at(l, i), 1-based, NULL when out of range
  list lengths      len(list) becomes length() (a string function): array_size() for lists
  list concat       list_concat(NULL, l) is l in DuckDB and NULL in Spark: coalesce to empty arrays
  distinct windows  count(distinct x) over (...) is refused by Spark: size(collect_set(x) over (...))
  hash width        hash() is 64-bit in DuckDB and 32-bit in Spark: xxhash64 (the values still
                    differ between the engines; use hashes only to group, never as output)
  intervals         to_minutes(n) and friends: interval literals (make_dt_interval when not literal)
  json casts        x::json is DuckDB's JSON check; JSON is text in Spark, so it is left as text
  small functions   list_position (0 -> NULL), regexp_full_match, regexp_replace (first match only
                    unless 'g'), json_type, json_array_length(j, path), time_bucket, epoch,
                    list_distinct (drops NULLs), concat (NULL-skipping)

JSON values are text on Spark. One difference remains by design: a JSON string value extracted
with -> is "quoted" in DuckDB and unquoted on Spark (get_json_object); rules compare with ->>.
"""
import datetime as dt
import re

import sqlglot
from sqlglot import exp


class NotPortable(Exception):
    """A construct that has no Spark equivalent here; the message says what to write instead."""


# ---------------------------------------------------------------- helpers

def _rewrite(node, replace):
    """Bottom-up: children first, then the node itself (sqlglot's transform is top-down and
    does not revisit what a replacement contains, so nested cases were missed)."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _rewrite(value, replace))
        elif isinstance(value, list):
            node.set(key, [_rewrite(v, replace) if isinstance(v, exp.Expression) else v for v in value])
    return replace(node)


def _fn(name, *args):
    return exp.Anonymous(this=name, expressions=list(args))


def _col(name):
    return exp.column(name)


def _lambda(params, body):
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def literal(value):
    """A Python value (a setting or window bound) as a Spark SQL literal."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=exp.DataType.build("timestamp"))
    if isinstance(value, (list, tuple)):
        if not value:
            return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("array<string>", dialect="spark"))
        return exp.Array(expressions=[literal(item) for item in value])
    return exp.Literal.string(str(value))


class Context:
    """What the rewrites need besides the tree: the run's variables, macros seen so far,
    and the names of columns known to hold lists (for len() and ||)."""

    def __init__(self, variables=None, macros=None):
        self.variables = variables if isinstance(variables, dict) and type(variables) is not dict else dict(variables or {})
        self.macros = dict(macros or {})
        self.list_names = set()


# ---------------------------------------------------------------- rewrites

def collect_macros(tree, ctx):
    """`create macro name(params) as expr` statements are remembered and dropped."""
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO":
        udf = tree.this
        params = [p.name for p in udf.expressions]
        ctx.macros[udf.this.name.lower()] = (params, tree.expression)
        return None
    return tree


def inline_macros(tree, ctx):
    def replace(node):
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in ctx.macros:
            params, body = ctx.macros[str(node.this).lower()]
            if len(params) != len(node.expressions):
                raise NotPortable(f"macro {node.this} takes {len(params)} arguments")
            values = dict(zip(params, node.expressions))
            inlined = body.copy().transform(
                lambda n: values[n.name].copy() if isinstance(n, exp.Column) and not n.table and n.name in values else n)
            return exp.Paren(this=inline_macros(inlined, ctx))
        return node
    return _rewrite(tree, replace)


def replace_variables(tree, ctx):
    def replace(node):
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "getvariable":
            name = node.expressions[0].name
            if name not in ctx.variables:
                raise NotPortable(f"getvariable('{name}') has no value: declare it as a Setting")
            return literal(ctx.variables[name])
        return node
    return _rewrite(tree, replace)


def temporary_views(tree, ctx):
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "VIEW":
        properties = tree.args.get("properties") or exp.Properties(expressions=[])
        if not any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions):
            properties.append("expressions", exp.TemporaryProperty())
        tree.set("properties", properties)
    return tree


def json_lambda_args(tree, ctx):
    """`f(a->'$.k')` is parsed as a lambda with parameter a and body '$.k': a JSON extract."""
    def replace(node):
        if (isinstance(node, exp.Lambda) and isinstance(node.this, exp.Literal) and node.this.is_string
                and node.this.this.startswith("$") and len(node.expressions) == 1):
            return exp.JSONExtract(this=_col(node.expressions[0].name),
                                   expression=exp.Literal.string(node.this.this))
        return node
    return _rewrite(tree, replace)


def _sort_keys(ordered_list):
    """[(flag, key, desc)] sorting like DuckDB's ORDER BY (NULLs last unless asked otherwise)."""
    keys = []
    for ordered in ordered_list:
        desc = bool(ordered.args.get("desc"))
        nulls_first = bool(ordered.args.get("nulls_first"))
        key = ordered.this.copy()
        # A struct with a NULL field sorts first in Spark: a leading flag per key gives DuckDB's
        # order (flipped for a descending key, whose comparison is reversed).
        is_null = exp.Is(this=key.copy(), expression=exp.Null())
        flag = is_null if desc == nulls_first else exp.Not(this=is_null)
        keys.append((flag, key, desc))
    return keys


def _ordered_collect(value, order):
    keys = _sort_keys(order.expressions)
    fields = []
    for index, (flag, key, _) in enumerate(keys):
        fields += [exp.Literal.string(f"n{index}"), flag, exp.Literal.string(f"k{index}"), key]
    fields += [exp.Literal.string("v"), value]
    collected = _fn("collect_list", _fn("named_struct", *fields))
    directions = {desc for _, _, desc in keys}
    if directions == {True}:
        sorted_ = _fn("sort_array", collected, exp.false())
    elif directions == {False}:
        sorted_ = _fn("array_sort", collected)
    else:
        # Mixed directions: a comparator, key by key.
        ifs = []
        for index, (_, _, desc) in enumerate(keys):
            for name in (f"n{index}", f"k{index}"):
                left = exp.Dot(this=_col("l"), expression=exp.to_identifier(name))
                right = exp.Dot(this=_col("r"), expression=exp.to_identifier(name))
                sign = -1 if desc else 1
                ifs.append(exp.If(this=exp.LT(this=left, expression=right), true=exp.Literal.number(-sign)))
                ifs.append(exp.If(this=exp.GT(this=left.copy(), expression=right.copy()), true=exp.Literal.number(sign)))
        comparator = _lambda(["l", "r"], exp.Case(ifs=ifs, default=exp.Literal.number(0)))
        sorted_ = _fn("array_sort", collected, comparator)
    return _fn("transform", sorted_, _lambda(["s"], exp.Dot(this=_col("s"), expression=exp.to_identifier("v"))))


def _unwrap_order(node):
    this = node.this
    if isinstance(this, exp.Order):
        return this.this, this
    return this, None


def ordered_lists(tree, ctx):
    """list(x order by ...) and string_agg(x, sep order by ...) keep their order and NULLs."""
    def replace(node):
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Anonymous) and \
                str(node.this.this).lower() in ("transform", "array_join", "sort_array"):
            # list(x) over (...): the window applies to collect_list, the rest works on its result.
            outer = node.this
            collect = next((n for n in outer.walk() if isinstance(n, exp.Anonymous)
                            and str(n.this).lower() in ("collect_list", "collect_set")), None)
            if collect is not None:
                window = node.copy()
                window.set("this", collect.copy())
                collect.replace(window)
                return outer
        if isinstance(node, exp.ArrayAgg):
            value, order = _unwrap_order(node)
            if isinstance(value, exp.Distinct):
                # DuckDB's order is undefined here; sorted is one of its possible answers.
                desc = bool(order and order.expressions and order.expressions[0].args.get("desc"))
                return _fn("sort_array", _fn("collect_set", value.expressions[0].copy()), exp.Boolean(this=not desc))
            if order is None:
                # Unordered: keep NULLs as DuckDB does (the lint refuses it in rules anyway).
                collected = _fn("collect_list", _fn("named_struct", exp.Literal.string("v"), value.copy()))
                return _fn("transform", collected, _lambda(["s"], exp.Dot(this=_col("s"), expression=exp.to_identifier("v"))))
            return _ordered_collect(value.copy(), order)
        if isinstance(node, exp.GroupConcat):
            value, order = _unwrap_order(node)
            separator = node.args.get("separator") or exp.Literal.string(",")
            if isinstance(value, exp.Distinct):
                desc = bool(order and order.expressions and order.expressions[0].args.get("desc"))
                return _fn("array_join", _fn("sort_array", _fn("collect_set", value.expressions[0].copy()),
                                             exp.Boolean(this=not desc)), separator.copy())
            if order is None:
                # Unordered (the lint refuses it in rules): any order is one of DuckDB's answers.
                return _fn("array_join", _fn("collect_list", value.copy()), separator.copy())
            return _fn("array_join", _ordered_collect(value.copy(), order), separator.copy())
        return node
    return _rewrite(tree, replace)


def empty_filtered_lists(tree, ctx):
    """list(x) filter (where c) over no matching row is NULL in DuckDB, [] from collect_list."""
    def replace(node):
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.Anonymous) and \
                str(node.this.this).lower() in ("transform", "array_join"):
            inner = node.this
            # transform(array_sort(collect_list(...)) ...): move the filter onto collect_list.
            collect = next((n for n in inner.walk() if isinstance(n, exp.Anonymous)
                            and str(n.this).lower() == "collect_list"), None)
            if collect is None:
                return node
            filtered = exp.Filter(this=collect.copy(), expression=node.expression.copy())
            collect.replace(filtered)
            return exp.If(this=exp.EQ(this=_fn("size", filtered.copy()), expression=exp.Literal.number(0)),
                          true=exp.Null(), false=inner)
        return node
    return _rewrite(tree, replace)


def _path_text(path):
    if isinstance(path, exp.JSONPath):
        return path.sql(dialect="duckdb").strip("'")
    if isinstance(path, exp.Literal) and path.is_string:
        return path.this
    raise NotPortable("a JSON path must be a literal string")


def _split_wildcard(path):
    """'$.a[*].b' -> ('$.a', '$.b', 'array'), '$.*.b' -> ('$', '$.b', 'map'); None without a wildcard."""
    found = [(path.find(mark), mark) for mark in ("[*]", ".*") if path.find(mark) >= 0]
    if not found:
        return None
    position, mark = min(found)
    return path[:position] or "$", "$" + path[position + len(mark):], "array" if mark == "[*]" else "map"


def _extract(this, path, scalar):
    split = _split_wildcard(path)
    if split is None:
        if path == "$":
            return this
        return _fn("get_json_object", this, exp.Literal.string(path))
    head, rest, kind = split
    document = this if head == "$" else _fn("get_json_object", this, exp.Literal.string(head))
    if kind == "array":
        array = _fn("from_json", document, exp.Literal.string("array<string>"))
    else:
        array = _fn("map_values", _fn("from_json", document, exp.Literal.string("map<string,string>")))
    # DuckDB gives [] for a path that is missing or not an array, NULL only for a NULL document.
    array = exp.Case(ifs=[exp.If(this=exp.Is(this=this.copy(), expression=exp.Null()), true=exp.Null())],
                     default=_fn("coalesce", array, exp.Cast(this=exp.Array(expressions=[]),
                                                             to=exp.DataType.build("array<string>", dialect="spark"))))
    if rest == "$":
        return array
    element = _extract(_col("e"), rest, scalar)
    mapped = _fn("transform", array, _lambda(["e"], element))
    if _split_wildcard(rest) is not None:
        kept = _fn("filter", mapped, _lambda(["a"], exp.Not(this=exp.Is(this=_col("a"), expression=exp.Null()))))
        return _fn("flatten", kept)
    # A match missing inside an element is left out, as DuckDB does (a JSON null match, which
    # DuckDB keeps as NULL, is left out too: get_json_object cannot tell the two apart).
    return _fn("filter", mapped, _lambda(["m"], exp.Not(this=exp.Is(this=_col("m"), expression=exp.Null()))))


def json_paths(tree, ctx):
    def replace(node):
        if isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar)):
            path = _path_text(node.expression)
            result = _extract(node.this.copy(), path, isinstance(node, exp.JSONExtractScalar))
            return result
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "json_array_length":
            args = list(node.expressions)
            target = args[0].copy() if len(args) == 1 else _extract(args[0].copy(), _path_text(args[1]), False)
            return _fn("json_array_length", target)
        return node
    return _rewrite(tree, replace)


_LIST_FUNCTIONS = {"collect_list", "collect_set", "transform", "filter", "array_sort", "sort_array", "flatten",
                   "array_distinct", "array", "split", "array_union", "array_except", "array_intersect",
                   "from_json", "concat_lists", "array_compact", "slice"}


def _is_list(node, ctx):
    if node is None:
        return False
    if isinstance(node, (exp.Array, exp.ArrayAgg, exp.ArrayFilter, exp.ArrayConcat, exp.ArraySort,
                         exp.ArrayDistinct if hasattr(exp, "ArrayDistinct") else exp.Array,
                         exp.Split, exp.Flatten if hasattr(exp, "Flatten") else exp.Array)):
        return True
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.ARRAY):
        return True
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in _LIST_FUNCTIONS | {"list_distinct", "list_filter",
                                                                                         "list_transform", "list_sort"}:
        return True
    if isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar)):
        return _split_wildcard(_path_text(node.expression)) is not None
    if isinstance(node, exp.DPipe):
        return _is_list(node.this, ctx) or _is_list(node.expression, ctx)
    if isinstance(node, exp.Case):
        return any(_is_list(i.args.get("true"), ctx) for i in node.args.get("ifs") or []) or \
            _is_list(node.args.get("default"), ctx)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "concat":
        return any(_is_list(e, ctx) for e in node.expressions)
    if type(node).__name__ in ("Transform", "ArrayTransform"):
        return True
    if isinstance(node, exp.Coalesce):
        return _is_list(node.this, ctx) or any(_is_list(e, ctx) for e in node.expressions)
    if isinstance(node, exp.Paren):
        return _is_list(node.this, ctx)
    if isinstance(node, exp.Column):
        return node.name in ctx.list_names
    return False


def learn_list_names(tree, ctx):
    """Remembers the names of list-valued columns (aliases of list expressions), across views."""
    for _ in range(3):   # an alias may be built from another one
        for alias in tree.find_all(exp.Alias):
            if _is_list(alias.this, ctx):
                ctx.list_names.add(alias.alias)
    return tree


def list_lengths_and_concat(tree, ctx):
    def replace(node):
        if isinstance(node, exp.Length) and _is_list(node.this, ctx):
            return _fn("array_size", node.this.copy())
        if isinstance(node, exp.ArrayConcat) or (isinstance(node, exp.DPipe) and
                                                 (_is_list(node.this, ctx) or _is_list(node.expression, ctx))):
            parts = [node.this] + (list(node.expressions) if isinstance(node, exp.ArrayConcat) else [node.expression])
            # array() takes the other side's element type (lists of structs or of lists too).
            return _fn("concat", *[_fn("coalesce", p.copy(), _fn("array")) for p in parts])
        return node
    return _rewrite(tree, replace)


def list_indexes(tree, ctx):
    """l[i] (1-based, NULL out of range) -> try_element_at(l, i); s['k'] (struct field) is kept."""
    def replace(node):
        if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
            index = node.expressions[0]
            if isinstance(index, exp.Literal) and index.is_string:
                return node
            if isinstance(index, exp.Slice):
                # DuckDB l[a:b] is 1-based and includes b; a or b may be left out.
                start = index.this.copy() if index.this is not None else exp.Literal.number(1)
                if index.expression is None:
                    length = exp.Add(this=exp.Sub(this=_fn("size", node.this.copy()), expression=start.copy()),
                                     expression=exp.Literal.number(1))
                else:
                    length = exp.Add(this=exp.Sub(this=index.expression.copy(), expression=start.copy()),
                                     expression=exp.Literal.number(1))
                return _fn("slice", node.this.copy(), start, _fn("greatest", length, exp.Literal.number(0)))
            number = _constant_number(index)
            if number is not None:
                # sqlglot already made a literal index 0-based (and left other indexes as written).
                index = exp.Literal.number(int(number) + 1)
            return _fn("try_element_at", node.this.copy(), index.copy())
        return node
    return _rewrite(tree, replace)


def distinct_window_counts(tree, ctx):
    def replace(node):
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Count) and isinstance(node.this.this, exp.Distinct):
            values = node.this.this.expressions
            if len(values) != 1:
                raise NotPortable("count(distinct a, b) over (...): count one expression")
            window = node.copy()
            window.set("this", _fn("collect_set", values[0].copy()))
            return _fn("size", window)
        return node
    return _rewrite(tree, replace)


def hash_width(tree, ctx):
    def replace(node):
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hash" or type(node).__name__ == "Hash":
            args = list(node.expressions) if isinstance(node, exp.Anonymous) else [node.this] + list(node.expressions)
            return _fn("xxhash64", *[a.copy() for a in args if a is not None])
        return node
    return _rewrite(tree, replace)


_INTERVAL_UNITS = {"to_seconds": "second", "to_minutes": "minute", "to_hours": "hour", "to_days": "day"}


def _constant_number(node):
    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        return node.this
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + node.this.this
    return None


def intervals(tree, ctx):
    def replace(node):
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _INTERVAL_UNITS:
            unit, value = _INTERVAL_UNITS[str(node.this).lower()], node.expressions[0]
        elif isinstance(node, getattr(exp, "ToDays", ())):
            unit, value = "day", node.this      # sqlglot parses to_days() into its own node
        else:
            return node
        number = _constant_number(value)
        if number is not None:
            return exp.Interval(this=exp.Literal.string(number), unit=exp.var(unit.upper()))
        args = {"day": [value.copy(), 0, 0, 0], "hour": [0, value.copy(), 0, 0],
                "minute": [0, 0, value.copy(), 0], "second": [0, 0, 0, value.copy()]}[unit]
        return _fn("make_dt_interval", *[exp.Literal.number(a) if isinstance(a, int) else a for a in args])
    return _rewrite(tree, replace)


def histograms(tree, ctx):
    """histogram(x) (a map value -> count, NULLs left out) from collect_list."""
    def replace(node):
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "histogram":
            values = _fn("collect_list", node.expressions[0].copy())
            keys = _fn("array_sort", _fn("array_distinct", values))
            counts = _fn("transform", keys.copy(), _lambda(["k"], _fn("size", _fn(
                "filter", values.copy(), _lambda(["y"], exp.EQ(this=_col("y"), expression=_col("k")))))))
            return _fn("map_from_arrays", keys, counts)
        return node
    return _rewrite(tree, replace)


def json_types(tree, ctx):
    """JSON (also inside list types) is text on Spark."""
    def replace(node):
        if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.JSON):
            return exp.DataType.build("string")
        return node
    return _rewrite(tree, replace)


def json_casts(tree, ctx):
    def replace(node):
        if isinstance(node, (exp.Cast, exp.TryCast)) and node.to.is_type(exp.DataType.Type.JSON):
            return node.this.copy()
        if (isinstance(node, (exp.Cast, exp.TryCast)) and node.to.is_type(exp.DataType.Type.ARRAY)
                and node.to.expressions and node.to.expressions[0].is_type(exp.DataType.Type.JSON)
                and not isinstance(node.this, exp.Array)):
            # cast(<JSON text> as json[]): the elements' JSON texts (Spark reads a nested value as
            # its text). A list value cast to json[] stays a cast to array<string>.
            return _fn("from_json", node.this.copy(), exp.Literal.string("array<string>"))
        if isinstance(node, exp.ParseJSON):
            return node.this.copy()
        return node
    return _rewrite(tree, replace)


def _json_type(value):
    text = _fn("ltrim", value)
    first = _fn("substr", text, exp.Literal.number(1), exp.Literal.number(1))
    return exp.Case(ifs=[
        exp.If(this=exp.Is(this=value.copy(), expression=exp.Null()), true=exp.Null()),
        exp.If(this=exp.EQ(this=first.copy(), expression=exp.Literal.string("{")), true=exp.Literal.string("OBJECT")),
        exp.If(this=exp.EQ(this=first.copy(), expression=exp.Literal.string("[")), true=exp.Literal.string("ARRAY")),
        exp.If(this=exp.EQ(this=first.copy(), expression=exp.Literal.string('"')), true=exp.Literal.string("VARCHAR")),
        exp.If(this=exp.In(this=text.copy(), expressions=[exp.Literal.string("true"), exp.Literal.string("false")]),
               true=exp.Literal.string("BOOLEAN")),
        exp.If(this=exp.EQ(this=text.copy(), expression=exp.Literal.string("null")), true=exp.Literal.string("NULL")),
        exp.If(this=exp.RegexpLike(this=text.copy(), expression=exp.Literal.string("^-?[0-9]+$")),
               true=exp.Literal.string("BIGINT")),
        exp.If(this=exp.RegexpLike(this=text.copy(), expression=exp.Literal.string("^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")),
               true=exp.Literal.string("DOUBLE")),
        # get_json_object gives a JSON string without its quotes: what is left is text. (A JSON
        # string that reads as a number or true/false is taken for one: the text cannot tell.)
    ], default=exp.Literal.string("VARCHAR"))


def small_functions(tree, ctx):
    def replace(node):
        name = str(node.this).lower() if isinstance(node, exp.Anonymous) else type(node).__name__.lower()
        args = list(node.expressions) if isinstance(node, exp.Anonymous) else None
        # Spark's array_position gives a BIGINT, which element_at() refuses as an index: an INT, as in DuckDB.
        if name in ("list_position", "list_indexof", "array_position") and args:
            position = exp.Cast(this=_fn("array_position", *[a.copy() for a in args]), to=exp.DataType.build("int"))
            return exp.Nullif(this=position, expression=exp.Literal.number(0))
        if isinstance(node, exp.ArrayPosition if hasattr(exp, "ArrayPosition") else ()):
            position = exp.Cast(this=_fn("array_position", node.this.copy(), node.expression.copy()),
                                to=exp.DataType.build("int"))
            return exp.Nullif(this=position, expression=exp.Literal.number(0))
        if name == "regexp_full_match" and args or type(node).__name__ == "RegexpFullMatch":
            value, pattern = (args[0], args[1]) if args else (node.this, node.expression)
            return exp.RegexpLike(this=value.copy(),
                                  expression=_fn("concat_ws", exp.Literal.string(""), exp.Literal.string("^(?:"),
                                                 pattern.copy(), exp.Literal.string(")$")))
        if isinstance(node, exp.RegexpReplace):
            modifiers = node.args.get("modifiers")
            if not (modifiers is not None and "g" in modifiers.name):
                # DuckDB replaces the first match only (without 'g'): anchor the pattern to the first.
                pattern = node.expression
                return exp.RegexpReplace(this=node.this.copy(), expression=exp.Concat(expressions=[
                    exp.Literal.string("^(.*?)(?:"), pattern.copy(), exp.Literal.string(")")]),
                    replacement=exp.Concat(expressions=[exp.Literal.string("$1"), node.args["replacement"].copy()]))
            node = node.copy()
            node.set("modifiers", None)
            return node
        if name == "json_type" and args:
            value = args[0].copy() if len(args) == 1 else _extract(args[0].copy(), _path_text(args[1]), False)
            return _json_type(value)
        if isinstance(node, exp.JSONType if hasattr(exp, "JSONType") else ()):
            value = node.this.copy()
            if node.expression is not None:
                value = _extract(value, _path_text(node.expression), False)
            return _json_type(value)
        if name == "time_bucket" and args or isinstance(node, exp.DateBin if hasattr(exp, "DateBin") else ()):
            width, value = (args[0], args[1]) if args else (node.this, node.expression)
            seconds = _fn("unix_seconds", value.copy())
            step = _interval_seconds(width)
            return _fn("timestamp_seconds", exp.Mul(this=_fn("floor", exp.Div(this=seconds, expression=step.copy())),
                                                    expression=step.copy()))
        if name in ("epoch",) and args or isinstance(node, exp.TimeToUnix):
            value = args[0] if args else node.this
            if isinstance(value, exp.Sub):
                # epoch(a - b), the seconds of an interval between two times: Spark's unix_micros
                # takes a timestamp, not an interval.
                micros = exp.Paren(this=exp.Sub(this=_fn("unix_micros", value.this.copy()),
                                                expression=_fn("unix_micros", value.expression.copy())))
            else:
                micros = _fn("unix_micros", value.copy())
            return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))
        if isinstance(node, exp.ArrayOverlaps):
            # list_has_any(a, b) / a && b: Spark writes `&&` back, which it cannot parse.
            return _fn("arrays_overlap", node.this.copy(), node.expression.copy())
        if name in ("list_sum", "list_bool_or") and len(args or ()) == 1:
            # DuckDB skips NULL elements and gives NULL for a list without any.
            present = _fn("filter", args[0].copy(), _lambda(["v"], exp.Not(this=exp.Is(this=_col("v"), expression=exp.Null()))))
            if name == "list_sum":
                # An integer sum (the rules sum counts); a list of doubles fails on Spark with a type error.
                total = _fn("aggregate", present.copy(), exp.Cast(this=exp.Literal.number(0), to=exp.DataType.build("bigint")),
                            _lambda(["acc", "v"], exp.Add(this=_col("acc"), expression=_col("v"))))
            else:
                total = _fn("exists", present.copy(), _lambda(["v"], _col("v")))
            return exp.Case(ifs=[exp.If(this=exp.EQ(this=_fn("size", present), expression=exp.Literal.number(0)),
                                        true=exp.Null())], default=total)
        if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
            # `as materialized (...)`: a DuckDB planning hint Spark cannot parse; same rows without it.
            node = node.copy()
            node.set("materialized", None)
            return node
        if isinstance(node, exp.ArrayUniqueAgg if hasattr(exp, "ArrayUniqueAgg") else ()):
            return node
        if name in ("list_distinct", "array_distinct") and args or type(node).__name__ == "ArrayDistinct":
            value = args[0] if args else node.this
            return _fn("filter", _fn("array_distinct", value.copy()),
                       _lambda(["d"], exp.Not(this=exp.Is(this=_col("d"), expression=exp.Null()))))
        if isinstance(node, exp.Concat) and not isinstance(node.parent, exp.RegexpLike):
            if any(_is_list(e, ctx) for e in node.expressions):
                return node
            # DuckDB's concat() skips NULLs; Spark's returns NULL.
            return _fn("concat_ws", exp.Literal.string(""), *[e.copy() for e in node.expressions])
        return node
    return _rewrite(tree, replace)


def _interval_seconds(width):
    if isinstance(width, exp.Interval):
        number = float(width.this.name)
        unit = width.unit.name.lower().rstrip("s")
        factor = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}.get(unit)
        if factor is None:
            raise NotPortable(f"time_bucket by {unit}: use seconds, minutes, hours or days")
        return exp.Literal.number(int(number * factor))
    raise NotPortable("time_bucket width must be an interval literal")


REWRITES = (collect_macros, inline_macros, replace_variables, temporary_views, json_lambda_args,
            ordered_lists, empty_filtered_lists, histograms, learn_list_names, list_lengths_and_concat,
            json_paths, list_indexes, distinct_window_counts, hash_width, intervals, json_casts, json_types,
            small_functions)

_REFUSED = (
    (re.compile(r"\basof\s+(left\s+)?join\b", re.I), "ASOF JOIN: use a window (max(...) over (order by event_time, event_id)) or a range join"),
    (re.compile(r"\browid\b", re.I), "rowid: order and break ties by event_id"),
    (re.compile(r"\bformat_bytes\s*\(", re.I), "format_bytes(): round the number in SQL and format it in Python or report text"),
)


def refused(sql):
    """Messages for constructs that do not compile, found in the SQL text (comments removed)."""
    text = strip_comments(sql)
    return [message for pattern, message in _REFUSED if pattern.search(text)]


def strip_comments(sql):
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


def compile_sql(sql, variables=None, context=None):
    """DuckDB SQL (one or more statements) -> list of Spark SQL statements.

    variables: getvariable() values; context: a Context shared across calls (macros and
    list-valued names of the views carry over to the rules that read them).
    """
    ctx = context or Context(variables)
    if variables and context is not None:
        ctx.variables.update(variables)
    problems = refused(sql)
    if problems:
        raise NotPortable("; ".join(problems))
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as error:
        raise NotPortable(f"sqlglot cannot parse it: {str(error).splitlines()[0]}") from None
    statements = []
    for tree in trees:
        if tree is None:
            continue
        for rewrite in REWRITES:
            tree = rewrite(tree, ctx)
            if tree is None:
                break
        if tree is None:
            continue
        # Comments dropped: the query is run, not read (and may be wrapped by the runner).
        statements.append(tree.sql(dialect="spark", comments=False))
    return statements


def compile_query(sql, variables=None, context=None):
    """A single SELECT -> one Spark SQL query."""
    statements = compile_sql(sql, variables, context)
    if len(statements) != 1:
        raise NotPortable(f"expected one statement, found {len(statements)}")
    return statements[0]


# ---------------------------------------------------------------- the portability lint

def portability_problems(sql):
    """What in a rule's SQL would not run, or not run the same, on Spark - each message says
    what to write instead. Empty when the SQL is in the portable subset."""
    problems = list(refused(sql))
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except sqlglot.errors.SqlglotError as error:
        return problems + [f"sqlglot cannot parse it ({str(error).splitlines()[0]}): write plain DuckDB SQL"]
    for tree in trees:
        for node in tree.walk():
            if isinstance(node, (exp.ArrayAgg, exp.GroupConcat)):
                value, order = _unwrap_order(node)
                window = node.parent
                if order is None and isinstance(window, exp.Window) and window.args.get("order") is not None:
                    order = window.args["order"]     # list(x) over (... order by ...): the window's order
                name = "list()" if isinstance(node, exp.ArrayAgg) else "string_agg()"
                example = "list(x order by event_time, event_id)" if name == "list()" else \
                    "string_agg(x, ', ' order by x, event_id)"
                if order is None and isinstance(value, exp.Distinct):
                    problems.append(f"{name[:-2]}(distinct x) has an undefined order: write "
                                    f"{name[:-2]}(distinct x{'' if name == 'list()' else ', sep'} order by x)")
                elif order is None:
                    problems.append(f"{name} without order by has an undefined order: write {example}")
                elif not isinstance(value, exp.Distinct):
                    last = order.expressions[-1].this
                    if not (isinstance(last, exp.Column) and last.name == "event_id") and \
                            last.sql(dialect="duckdb") != value.sql(dialect="duckdb"):
                        keys = ", ".join(o.sql(dialect="duckdb") for o in order.expressions)
                        problems.append(f"{name} order by {keys}: "
                                        "end the order with event_id so ties have one order")
            if isinstance(node, exp.Explode) or (isinstance(node, exp.Anonymous) and str(node.this).lower() == "unnest"):
                parent = node.parent
                while isinstance(parent, (exp.Alias, exp.Paren)):
                    parent = parent.parent
                if not isinstance(parent, (exp.Select, exp.From, exp.Join, exp.Table, exp.Unnest)):
                    problems.append("unnest() inside an expression: unnest in a subquery's select list "
                                    "(`select unnest(l) as item ...`), then compute on item")
            if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("hash", "md5_number", "random", "uuid", "gen_random_uuid"):
                if str(node.this).lower() == "hash":
                    parent = node.parent
                    while isinstance(parent, exp.Paren):
                        parent = parent.parent
                    if isinstance(parent, exp.Alias) and isinstance(parent.parent, exp.Select) and \
                            parent.parent.parent is None:
                        problems.append("hash() in a rule's output: DuckDB and Spark hash differently; "
                                        "use hashes only to group or join")
                else:
                    problems.append(f"{node.this}(): not deterministic - derive values from the events")
            if isinstance(node, exp.Rand) if hasattr(exp, "Rand") else False:
                problems.append("random(): not deterministic - derive values from the events")
    try:
        compile_sql(sql, variables=_AnyVariables())
    except NotPortable as error:
        problems.append(str(error))
    return list(dict.fromkeys(problems))


class _AnyVariables(dict):
    """Lets the lint compile without the run's values (every variable reads as 1)."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return None if key in ("since", "until") else 1

    def copy(self):
        return self
