"""Sigma rules for CloudTrail: reads rule files and compiles each rule's detection section to
one DuckDB SQL condition over a row `e` of the `events` table.

This module knows Sigma and the events table; it knows nothing of findings or reports
(analyze_sigma.py turns the rules into detections). The semantics, with the reasons and
sources, are in references/sigma.md; in short:

- A field name is a CloudTrail dotted path (userIdentity.arn, requestParameters.bucketName,
  additionalEventData.MFAUsed), read from the stored record (`record`, the JSON text of the
  whole original record). A few top-level and userIdentity fields are read from their
  extracted column instead (FAST_COLUMNS), which holds the same text.
- A path that passes through a JSON list looks into every element; a field that holds a list
  or an object matches when any value inside it (at any depth) matches. `field: null` means
  the field is absent or null.
- Strings compare case-insensitively; `*` and `?` are wildcards (`\\*`, `\\?`, `\\\\` escape
  them); a list of values matches any of them, or every one with `|all`.
- Rule text reaches the SQL only as quoted string literals (quotes doubled, NUL refused) and
  as numbers Python formatted itself; never as SQL syntax.
"""
import base64
import ipaddress
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

MAX_RULE_BYTES = 1_000_000          # a rule file is a few kB; a larger one is refused (YAML alias bombs)
RULE_SUFFIXES = (".yml", ".yaml")
LEVELS = {"informational": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}
ATTACK_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)

# Fields whose extracted column in `events` holds exactly the record's text for that field
# (casedb.EXTRACT_SQL reads them with json_transform as VARCHAR). Reading the column avoids
# parsing the record. eventID is not here: a record without one gets a hash as event_id.
FAST_COLUMNS = {
    "eventSource": "event_source", "eventName": "event_name", "awsRegion": "aws_region",
    "sourceIPAddress": "source_ip", "userAgent": "user_agent", "errorCode": "error_code",
    "errorMessage": "error_message", "eventType": "event_type", "eventCategory": "event_category",
    "recipientAccountId": "recipient_account_id", "sharedEventID": "shared_event_id",
    "requestID": "request_id", "eventVersion": "event_version", "vpcEndpointId": "vpc_endpoint_id",
    "userIdentity.type": "user_type", "userIdentity.arn": "user_arn", "userIdentity.userName": "user_name",
    "userIdentity.principalId": "principal_id", "userIdentity.accessKeyId": "access_key_id",
    "userIdentity.accountId": "user_account_id", "userIdentity.invokedBy": "invoked_by",
    "userIdentity.sessionContext.sessionIssuer.arn": "session_issuer_arn",
    "userIdentity.sessionContext.sessionIssuer.userName": "session_issuer_name",
    "userIdentity.sessionContext.sessionIssuer.type": "session_issuer_type",
}

# Top-level objects kept as JSON columns: walking the column parses only that object, not the
# whole record (a third to a half of the time of a rule that reads them).
JSON_COLUMNS = {
    "requestParameters": "request_parameters", "responseElements": "response_elements",
    "additionalEventData": "additional_event_data", "resources": "resources", "tlsDetails": "tls_details",
    "serviceEventDetails": "service_event_details",
}

SUPPORTED_MODIFIERS = ("contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "exists",
                       "fieldref", "windash", "base64", "base64offset", "cased", "gt", "gte", "lt", "lte")


class RuleError(Exception):
    """A rule that cannot be converted; the message says why."""


@dataclass(frozen=True)
class SigmaRule:
    path: str
    id: str
    title: str
    severity: str                # toolkit severity (info, low, medium, high, critical)
    mitre: tuple                 # ATT&CK technique ids from the tags
    description: str
    false_positives: str
    references: tuple
    author: str
    status: str
    condition_sql: str           # a boolean over the events row `e`


# ---------------------------------------------------------------- files

def rule_files(path):
    """The rule files a RULE_OR_FOLDER argument names: the file itself, or every .yml/.yaml
    under the folder (recursively, in name order)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in RULE_SUFFIXES and p.is_file())
    return [path]


def load_rules(paths):
    """(rules, problems): every rule of every file; problems are (name, reason) for the files
    and rules that could not be read or converted. Rule ids are unique: a second rule with an
    id already loaded is a problem."""
    rules, problems, seen = [], [], {}
    for path in paths:
        for name, rule_or_reason in read_rule_file(path):
            if isinstance(rule_or_reason, str):
                problems.append((name, rule_or_reason))
            elif rule_or_reason.id in seen:
                problems.append((name, f"rule id {rule_or_reason.id} is also the id of {seen[rule_or_reason.id]}"))
            else:
                seen[rule_or_reason.id] = name
                rules.append(rule_or_reason)
    return rules, problems


def read_rule_file(path):
    """[(name, SigmaRule or reason)] for the YAML documents of one file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_RULE_BYTES:
            return [(str(path), f"{size:,} bytes; a Sigma rule file is at most {MAX_RULE_BYTES:,}")]
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        return [(str(path), f"cannot be read: {error.strerror or error}")]
    except UnicodeDecodeError:
        return [(str(path), "is not UTF-8 text")]
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except RecursionError:
        return [(str(path), "is nested too deeply to read")]
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        return [(str(path), f"is not valid YAML{line}: {problem}")]
    if not documents:
        return [(str(path), "holds no YAML document")]
    found = []
    for number, document in enumerate(documents, 1):
        name = str(path) if len(documents) == 1 else f"{path} (document {number})"
        fallback_id = path.stem if len(documents) == 1 else f"{path.stem}-{number}"
        try:
            found.append((name, parse_rule(document, str(path), fallback_id)))
        except RuleError as error:
            found.append((name, str(error)))
        except RecursionError:
            found.append((name, "is nested too deeply to read"))
    return found


# ---------------------------------------------------------------- a rule

def parse_rule(document, path="", fallback_id="rule"):
    """A SigmaRule from one parsed YAML document; RuleError when it cannot be converted."""
    if not isinstance(document, dict):
        raise RuleError("is not a Sigma rule (a YAML mapping with title, logsource and detection)")
    if "correlation" in document:
        raise RuleError("is a correlation rule; correlation rules are not supported")
    if "action" in document:
        raise RuleError(f"is a rule collection document (action: {document['action']}); not supported")
    if "filter" in document and "detection" not in document:
        raise RuleError("is a Sigma filter (meta) rule; not supported")
    title = _text(document.get("title")).strip()
    if not title:
        raise RuleError("has no title")
    _literal(title)                      # the title is written into the findings' summary SQL
    logsource = document.get("logsource")
    if not isinstance(logsource, dict):
        raise RuleError("has no logsource")
    product = _text(logsource.get("product")).lower()
    service = _text(logsource.get("service")).lower()
    category = _text(logsource.get("category")).lower()
    if product != "aws" or service not in ("", "cloudtrail") or category:
        shown = ", ".join(f"{k}: {_text(v)}" for k, v in logsource.items())
        raise RuleError(f"is for another log source ({shown}); only product: aws, service: cloudtrail is read here")
    detection = document.get("detection")
    if not isinstance(detection, dict):
        raise RuleError("has no detection section")
    level = _text(document.get("level") or "medium").lower()
    if level not in LEVELS:
        raise RuleError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    rule_id = _text(document.get("id")).strip() or fallback_id
    tags = document.get("tags") or []
    mitre = []
    for tag in tags if isinstance(tags, list) else []:
        match = ATTACK_TECHNIQUE.match(_text(tag).strip())
        if match and match.group(1).upper() not in mitre:
            mitre.append(match.group(1).upper())
    false_positives = document.get("falsepositives") or []
    if not isinstance(false_positives, list):
        false_positives = [false_positives]
    references = document.get("references") or []
    if not isinstance(references, list):
        references = [references]
    return SigmaRule(
        path=path, id=rule_id, title=title, severity=LEVELS[level], mitre=tuple(mitre),
        description=" ".join(_text(document.get("description")).split()) or "(the rule has no description)",
        false_positives="; ".join(_text(fp).strip() for fp in false_positives if _text(fp).strip()) or "(none given)",
        references=tuple(_text(r) for r in references), author=_text(document.get("author")),
        status=_text(document.get("status")), condition_sql=compile_detection(detection))


def _text(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------- the detection section

def compile_detection(detection):
    """The SQL condition of a detection section (a dict of named selections and `condition`)."""
    if "timeframe" in detection:
        raise RuleError("uses timeframe (an aggregation over time); not supported")
    condition = detection.get("condition")
    if isinstance(condition, list):
        if not condition:
            raise RuleError("has an empty condition list")
        conditions = condition
    else:
        conditions = [condition]
    selections = {}
    for name, body in detection.items():
        if name == "condition":
            continue
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise RuleError(f"selection name {name!r} is not a plain identifier")
        selections[name] = body
    compiled = {}

    def selection_sql(name):
        if name not in compiled:
            try:
                compiled[name] = _selection(selections[name])
            except RuleError as error:
                raise RuleError(f"selection {name}: {error}") from None
        return compiled[name]

    parts = []
    for text in conditions:
        if not isinstance(text, str) or not text.strip():
            raise RuleError("has no condition")
        try:
            parts.append(ConditionParser(text, selections, selection_sql).parse())
        except RecursionError:
            raise RuleError("has a condition nested too deeply to read") from None
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


class ConditionParser:
    """condition := or; or := and ('or' and)*; and := not ('and' not)*;
    not := 'not' not | primary; primary := '(' or ')' | ('1'|'any'|'all') 'of' target | name.
    Precedence: not binds tightest, then and, then or (Sigma specification)."""

    TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_.\-*]+|\|.*|\S)")

    def __init__(self, text, selections, selection_sql):
        self.text = text
        self.tokens = [m.group(1) for m in self.TOKEN.finditer(text) if m.group(1).strip()]
        self.position = 0
        self.selections = selections
        self.selection_sql = selection_sql

    def parse(self):
        if any(token.startswith("|") for token in self.tokens):
            raise RuleError(f"condition {self.text!r} has an aggregation (| ...); not supported")
        result = self._or()
        if self.position != len(self.tokens):
            raise RuleError(f"condition {self.text!r}: unexpected {self.tokens[self.position]!r}")
        return result

    def _peek(self):
        return self.tokens[self.position].lower() if self.position < len(self.tokens) else None

    def _take(self):
        token = self.tokens[self.position] if self.position < len(self.tokens) else None
        if token is None:
            raise RuleError(f"condition {self.text!r} ends too early")
        self.position += 1
        return token

    def _or(self):
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def _and(self):
        parts = [self._not()]
        while self._peek() == "and":
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    def _not(self):
        if self._peek() == "not":
            self._take()
            return f"(not {self._not()})"
        return self._primary()

    def _primary(self):
        token = self._take()
        lowered = token.lower()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise RuleError(f"condition {self.text!r}: missing )")
            return inner
        if lowered in ("1", "any", "all") and self._peek() == "of":
            self._take()
            target = self._take()
            if target.lower() == "them":
                names = [n for n in self.selections if not n.startswith("_")]
            else:
                pattern = re.compile("^" + re.escape(target).replace(r"\*", ".*") + "$")
                names = [n for n in self.selections if pattern.match(n)]
            if not names:
                raise RuleError(f"condition {self.text!r}: {target!r} names no selection")
            parts = [self.selection_sql(n) for n in names]
            joiner = " and " if lowered == "all" else " or "
            return parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"
        if lowered in ("and", "or", "not", "of", ")", "them") or not re.fullmatch(r"[A-Za-z0-9_.\-]+", token):
            raise RuleError(f"condition {self.text!r}: unexpected {token!r}")
        if token not in self.selections:
            raise RuleError(f"condition {self.text!r} names {token!r}, which is not a selection of the rule")
        return self.selection_sql(token)


def _selection(body):
    """A selection: a map (every field matches), a list of maps (any map matches), or a list
    of keywords (any keyword occurs in the record text)."""
    if isinstance(body, dict):
        if not body:
            raise RuleError("is empty")
        return "(" + " and ".join(_field_condition(key, value) for key, value in body.items()) + ")"
    if isinstance(body, list):
        if not body:
            raise RuleError("is an empty list")
        if all(isinstance(item, dict) for item in body):
            return "(" + " or ".join(_selection(item) for item in body) + ")"
        if all(not isinstance(item, (dict, list)) for item in body):
            return _field_condition("", body)
        raise RuleError("mixes maps and keywords in one list")
    if body is not None and not isinstance(body, (dict, list)):
        return _field_condition("", [body])
    raise RuleError("is empty")


def _field_condition(key, value):
    """One `field|modifier...: value(s)` entry as SQL. An empty field name is a keyword search."""
    if not isinstance(key, str):
        key = str(key)
    field, *modifiers = key.split("|")
    modifiers = [m.strip().lower() for m in modifiers]
    unknown = [m for m in modifiers if m not in SUPPORTED_MODIFIERS]
    if unknown:
        raise RuleError(f"field {key!r}: modifier {unknown[0]!r} is not supported")
    field = field.strip()
    path = _field_path(field) if field else None
    if path is None and not {"contains", "startswith", "endswith", "re", "cidr"} & set(modifiers):
        modifiers.append("contains")    # a keyword occurs anywhere in the record's text
    values = value if isinstance(value, list) else [value]
    if not values:
        raise RuleError(f"field {key!r} has an empty list of values")
    if any(isinstance(v, (dict, list)) for v in values):
        raise RuleError(f"field {key!r}: a value is a map or list; Sigma values are plain")
    match_all = "all" in modifiers

    if "exists" in modifiers:
        if len(values) != 1 or not isinstance(values[0], bool) or path is None:
            raise RuleError(f"field {key!r}: exists takes true or false on a named field")
        present = _present(path)
        return present if values[0] else f"(not {present})"
    if "fieldref" in modifiers:
        if path is None or set(modifiers) - {"fieldref", "all"}:
            raise RuleError(f"field {key!r}: fieldref is supported alone on a named field")
        parts = [_fieldref(path, _field_path(_plain(v, key))) for v in values]
        return _combine(parts, match_all)

    value_conditions = []
    for item in values:
        if item is None:
            if path is None:
                raise RuleError("a keyword cannot be null")
            value_conditions.append(("null", None))
        else:
            value_conditions.append(("match", _matcher(item, modifiers, key)))
    # Nulls are "absent or null"; the other values test the field's values one by one.
    if match_all:
        parts = [_null_sql(path) if kind == "null" else _any_value(path, m) for kind, m in value_conditions]
        return _combine(parts, True)
    matchers = [m for kind, m in value_conditions if kind == "match"]
    parts = [_null_sql(path) for kind, _ in value_conditions if kind == "null"]
    if matchers:
        parts.append(_any_value(path, lambda x: "(" + " or ".join(m(x) for m in matchers) + ")"))
    return _combine(parts, False)


def _combine(parts, every):
    if len(parts) == 1:
        return parts[0]
    return "(" + (" and " if every else " or ").join(parts) + ")"


def _plain(value, key):
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise RuleError(f"field {key!r}: {value!r} is not a field name")
    return str(value)


def _field_path(field):
    segments = field.split(".")
    for segment in segments:
        if not segment or '"' in segment or "\x00" in segment or "\\" in segment:
            raise RuleError(f"field name {field!r} is not a dotted path of keys")
    return tuple(segments)


# ---------------------------------------------------------------- values

def _matcher(value, modifiers, key):
    """A function text_sql -> SQL boolean testing one value of the field against this rule value."""
    mods = set(modifiers)
    if "re" in mods:
        if not isinstance(value, str):
            value = _scalar_text(value)
        flags = "".join(f for f in ("i", "m", "s") if f in mods)
        if mods - {"re", "i", "m", "s", "all"}:
            raise RuleError(f"field {key!r}: re cannot be combined with {sorted(mods - {'re', 'i', 'm', 's', 'all'})}")
        pattern = (f"(?{flags})" if flags else "") + value
        _check_regex(pattern, key)
        return lambda x, p=_literal(pattern): f"regexp_matches({x}, {p})"
    if mods & {"i", "m", "s"}:
        raise RuleError(f"field {key!r}: i, m and s go with re")
    if "cidr" in mods:
        if mods - {"cidr", "all"}:
            raise RuleError(f"field {key!r}: cidr cannot be combined with other modifiers")
        return _cidr_matcher(_scalar_text(value), key)
    compare = mods & {"gt", "gte", "lt", "lte"}
    if compare:
        if len(compare) > 1 or mods - compare - {"all"} or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RuleError(f"field {key!r}: gt, gte, lt and lte take one number and no other modifier")
        operator = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[compare.pop()]
        number = _number(value, key)
        return lambda x: f"try_cast({x} as double) {operator} {number!r}"
    position = [m for m in ("contains", "startswith", "endswith") if m in mods]
    if len(position) > 1:
        raise RuleError(f"field {key!r}: {' and '.join(position)} cannot be combined")
    cased = "cased" in mods
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not (mods - {"all"}):
        # A number matches its text, or any text that reads as the same number.
        text, number = _scalar_text(value), _number(value, key)
        return lambda x: f"(lower({x}) = {_literal(text.lower())} or try_cast({x} as double) = {number!r})"
    text = _scalar_text(value)
    variants = [_wildcard_pattern(text)]                 # [(pattern parts)] with wildcards resolved
    if "windash" in mods:
        variants = [_wildcard_pattern(v) for v in _windash(text)]
    if "base64" in mods or "base64offset" in mods:
        if "base64" in mods and "base64offset" in mods:
            raise RuleError(f"field {key!r}: base64 and base64offset cannot be combined")
        if any(kind != "text" for parts in variants for kind, _ in parts):
            raise RuleError(f"field {key!r}: a base64 value cannot hold wildcards")
        plain = [_unescape(parts) for parts in variants]
        if "base64" in mods:
            variants = [[("text", base64.b64encode(p.encode()).decode())] for p in plain]
        else:
            if position and position != ["contains"]:
                raise RuleError(f"field {key!r}: base64offset goes with contains")
            variants = [[("text", v)] for p in plain for v in _base64_offsets(p.encode())]
            position = ["contains"]
    prefix = "%" if position and position[0] in ("contains", "endswith") else ""
    suffix = "%" if position and position[0] in ("contains", "startswith") else ""
    patterns = [prefix + _like_body(parts) + suffix for parts in variants]
    wildcards = [bool(prefix or suffix) or any(kind != "text" for kind, _ in parts)
                 for parts in variants]

    def match(x):
        tests = []
        for pattern, wild, parts in zip(patterns, wildcards, variants):
            if wild:
                if cased:
                    tests.append(f"({x} like {_literal(pattern)} escape '\\')")
                else:
                    tests.append(f"(lower({x}) like {_literal(pattern.lower())} escape '\\')")
            else:
                plain = _unescape(parts)
                tests.append(f"({x} = {_literal(plain)})" if cased else f"(lower({x}) = {_literal(plain.lower())})")
        return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
    return match


def _number(value, key):
    """A rule's number as a finite float (SQL has no literal for inf or nan)."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise RuleError(f"field {key!r}: {value!r} is not a finite number")
    return number


def _scalar_text(value):
    """A YAML scalar as the text it is compared as: true/false in lowercase, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


def _wildcard_pattern(text):
    """Sigma value text -> [(kind, text)]: kind 'text', 'any' (*) or 'one' (?).
    Backslash escapes *, ? and itself; before anything else it is a plain backslash."""
    parts, index, buffer = [], 0, []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "*?\\":
            buffer.append(text[index + 1])
            index += 2
            continue
        if char in "*?":
            if buffer:
                parts.append(("text", "".join(buffer)))
                buffer = []
            parts.append(("any" if char == "*" else "one", char))
        else:
            buffer.append(char)
        index += 1
    if buffer:
        parts.append(("text", "".join(buffer)))
    return parts


def _unescape(parts):
    return "".join(text for kind, text in parts)


def _like_body(parts):
    out = []
    for kind, text in parts:
        if kind == "any":
            out.append("%")
        elif kind == "one":
            out.append("_")
        else:
            out.append(text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return "".join(out)


def _windash(text):
    """Every variant of the value with each option dash (-, / or a Unicode dash that starts a
    word: not after a letter, digit or _, and before one) written in each of those forms, as
    pySigma's windash does (its pattern is \\B[-/]\\b)."""
    dashes = ("-", "/", "\u2013", "\u2014", "\u2015")
    spots = [i for i, c in enumerate(text) if c in dashes and (i == 0 or not _word(text[i - 1]))
             and i + 1 < len(text) and _word(text[i + 1])]
    if len(spots) > 3:
        raise RuleError("windash on a value with more than three option dashes is not supported")
    variants = []
    for choice in itertools.product(dashes, repeat=len(spots)):
        chars = list(text)
        for spot, dash in zip(spots, choice):
            chars[spot] = dash
        variants.append("".join(chars))
    return variants


def _word(char):
    return char.isalnum() or char == "_"


def _base64_offsets(data):
    """The three base64 texts that appear inside any encoding containing data (Sigma base64offset)."""
    found = []
    for offset in range(3):
        encoded = base64.b64encode(b"\x00" * offset + data).decode()
        start = (0, 2, 3)[offset]
        end = len(encoded) - (0, 3, 2)[(len(data) + offset) % 3]
        found.append(encoded[start:end])
    return found


def _check_regex(pattern, key):
    try:
        re.compile(pattern)
        con = duckdb.connect()
        try:
            con.execute("select regexp_matches('', ?)", [pattern]).fetchall()
        finally:
            con.close()
    except (re.error, duckdb.Error) as error:
        raise RuleError(f"field {key!r}: regular expression {pattern!r} is not supported ({str(error).splitlines()[0]})") from None


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"


def _cidr_matcher(text, key):
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise RuleError(f"field {key!r}: {text!r} is not a CIDR range") from None
    if network.version != 4:
        raise RuleError(f"field {key!r}: IPv6 CIDR ranges are not supported")
    low, high = int(network.network_address), int(network.broadcast_address)

    def match(x):
        number = " + ".join(f"try_cast(split_part({x}, '.', {i + 1}) as bigint) * {256 ** (3 - i)}" for i in range(4))
        return f"(regexp_full_match({x}, '{_IPV4}') and ({number}) between {low} and {high})"
    return match


# ---------------------------------------------------------------- fields of the record

def _literal(text):
    """A SQL string literal: single quotes doubled. DuckDB reads no escapes inside '...'."""
    if "\x00" in text:
        raise RuleError("a value holds a NUL character")
    return "'" + text.replace("'", "''") + "'"


def _key_regex(segment):
    """How json_tree writes one key in fullkey: bare, or quoted with \\" inside."""
    quoted = '"' + segment.replace('"', '\\"') + '"'
    return "(" + _re2_escape(segment) + "|" + _re2_escape(quoted) + ")"


def _re2_escape(text):
    return "".join("\\" + c if not c.isalnum() and c != "_" and ord(c) < 128 else c for c in text)


def _path_regex(path, below):
    """A regex over json_tree's fullkey for the nodes at the path, through any list indexes,
    and (below=True) every node under them."""
    if path[0] in JSON_COLUMNS:      # the tree of that column starts at its own $
        path = path[1:]
    body = r"\$" + "".join(r"(\[[0-9]+\])*\." + _key_regex(s) for s in path) + r"(\[[0-9]+\])*"
    return body + (r"([.\[].*)?" if below else "")


def _tree(path, alias):
    if path[0] in JSON_COLUMNS:
        return f"json_tree(e.{JSON_COLUMNS[path[0]]}) {alias}"
    return f"json_tree(e.record, {_literal('$.' + chr(34) + path[0] + chr(34))}) {alias}"


def _scalar_nodes(path, alias):
    return (f"regexp_full_match({alias}.fullkey, {_literal(_path_regex(path, True))}) "
            f"and {alias}.type not in ('OBJECT', 'ARRAY', 'NULL')")


def _any_value(path, match):
    """True when any scalar value at the path (or inside a list or object there) matches.
    path None: the keyword search over the record's text."""
    if path is None:
        return f"coalesce({match('e.record')}, false)"
    dotted = ".".join(path)
    if dotted in FAST_COLUMNS:
        return f"coalesce({match('e.' + FAST_COLUMNS[dotted])}, false)"
    return (f"exists (select 1 from {_tree(path, 't')} where {_scalar_nodes(path, 't')} "
            f"and coalesce({match('(t.value ->> ' + chr(39) + '$' + chr(39) + ')')}, false))")


def _value_exists(path, non_null=True):
    dotted = ".".join(path)
    if dotted in FAST_COLUMNS:
        return f"(e.{FAST_COLUMNS[dotted]} is not null)"
    null_test = " and t.type <> 'NULL'" if non_null else ""
    return (f"exists (select 1 from {_tree(path, 't')} where "
            f"regexp_full_match(t.fullkey, {_literal(_path_regex(path, False))}){null_test})")


def _present(path):
    """`field|exists: true`: the key is in the record, whatever its value (null included), as
    the modifier appendix says. Read from the record: the extracted columns cannot tell an
    absent key from a null one."""
    regex = r"\$" + "".join(r"(\[[0-9]+\])*\." + _key_regex(s) for s in path) + r"(\[[0-9]+\])*"
    return (f"exists (select 1 from json_tree(e.record, {_literal('$.' + chr(34) + path[0] + chr(34))}) t "
            f"where regexp_full_match(t.fullkey, {_literal(regex)}))")


def _null_sql(path):
    """`field: null`: the field is absent or JSON null."""
    return f"(not {_value_exists(path)})"


def _fieldref(path, other):
    """field|fieldref: other - some value of the field equals (case-insensitively) some value of other."""
    def values(p, alias):
        dotted = ".".join(p)
        if dotted in FAST_COLUMNS:
            return None, f"e.{FAST_COLUMNS[dotted]}"
        return f"{_tree(p, alias)}", f"({alias}.value ->> '$')"
    left_from, left = values(path, "a")
    right_from, right = values(other, "b")
    sources = [s for s in (left_from, right_from) if s]
    where = []
    if left_from:
        where.append(_scalar_nodes(path, "a"))
    if right_from:
        where.append(_scalar_nodes(other, "b"))
    where.append(f"lower({left}) = lower({right})")
    if not sources:
        return f"coalesce({where[-1]}, false)"
    return f"exists (select 1 from {', '.join(sources)} where {' and '.join(where)})"
