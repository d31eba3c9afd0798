"""The DuckDB ways of loading CloudTrail that the benchmark compares the ingest with.

usage: alternatives.py MODE DATABASE SOURCE

  recipe       SOURCE is an NDJSON file (one record per line, as `jq -c '.Records[]'` writes it):
               create table t as select * from read_json_auto('SOURCE')   (the users' notes)
  recipe-all   the same with read_json_auto('SOURCE', sample_size=-1)
  explicit     SOURCE is a log tree: read_json on its .json.gz files with an explicit schema
               (the fields the project's events table extracts), one row per record
  auto         SOURCE is a log tree: read_json_auto on its .json.gz files, as detected

Each writes a table into DATABASE (a new file) and prints one JSON line: ok, error, rows,
and the key paths of a record that the table's types can hold ("covered"; lists looked
through) and those below which anything is kept as text ("open": JSON, VARCHAR, MAP), so
the caller can count the record keys that a load dropped. The run_bench.py runner times
this whole process; nothing here measures itself.
"""
import os
import sys

import duckdb
import orjson

# The fields casedb.INSERT_BATCH_SQL extracts, read as text like the project reads them
# (readOnly is a boolean in most records but a string in some) and converted in the select.
# The nested objects stay JSON so the table has the events table's columns.
RECORD_TYPE = """STRUCT(
    eventVersion VARCHAR, userIdentity JSON, eventTime VARCHAR, eventSource VARCHAR,
    eventName VARCHAR, awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR,
    errorCode VARCHAR, errorMessage VARCHAR, requestParameters JSON, responseElements JSON,
    additionalEventData JSON, requestID VARCHAR, eventID VARCHAR, readOnly VARCHAR,
    resources JSON, eventType VARCHAR, managementEvent VARCHAR, recipientAccountId VARCHAR,
    sharedEventID VARCHAR, vpcEndpointId VARCHAR, eventCategory VARCHAR, tlsDetails JSON,
    sessionCredentialFromConsole VARCHAR, serviceEventDetails JSON
)"""

EXPLICIT_SQL = f"""
create table events as
select
    r.eventID as event_id,
    try_cast(r.eventTime as timestamptz) as event_time,
    r.eventSource as event_source,
    r.eventName as event_name,
    r.awsRegion as aws_region,
    r.sourceIPAddress as source_ip,
    r.userAgent as user_agent,
    r.errorCode as error_code,
    r.errorMessage as error_message,
    try_cast(r.readOnly as boolean) as read_only,
    r.eventType as event_type,
    r.eventCategory as event_category,
    try_cast(r.managementEvent as boolean) as management_event,
    r.recipientAccountId as recipient_account_id,
    r.sharedEventID as shared_event_id,
    r.requestID as request_id,
    r.eventVersion as event_version,
    r.vpcEndpointId as vpc_endpoint_id,
    r.userIdentity->>'$.type' as user_type,
    r.userIdentity->>'$.arn' as user_arn,
    r.userIdentity->>'$.userName' as user_name,
    r.userIdentity->>'$.principalId' as principal_id,
    r.userIdentity->>'$.accessKeyId' as access_key_id,
    r.userIdentity->>'$.accountId' as user_account_id,
    r.userIdentity->>'$.sessionContext.sessionIssuer.arn' as session_issuer_arn,
    r.userIdentity->>'$.sessionContext.sessionIssuer.userName' as session_issuer_name,
    r.userIdentity->>'$.sessionContext.sessionIssuer.type' as session_issuer_type,
    try_cast(r.userIdentity->>'$.sessionContext.attributes.mfaAuthenticated' as boolean) as mfa_authenticated,
    try_cast(r.sessionCredentialFromConsole as boolean) as session_credential_from_console,
    r.userIdentity->>'$.invokedBy' as invoked_by,
    coalesce(user_arn, user_name, invoked_by, principal_id, user_type) as actor,
    r.userIdentity as user_identity,
    r.requestParameters as request_parameters,
    r.responseElements as response_elements,
    r.additionalEventData as additional_event_data,
    r.resources as resources,
    r.tlsDetails as tls_details,
    r.serviceEventDetails as service_event_details
from (
    select unnest(Records) as r
    from read_json($files, columns = {{'Records': '{" ".join(RECORD_TYPE.split())}[]'}}, records = true)
)
"""


def log_files(tree):
    """The tree's .json.gz files except CloudTrail digests, which hold no records."""
    found = []
    for parent, _, names in os.walk(tree):
        if "CloudTrail-Digest" not in parent:
            found += [os.path.join(parent, name) for name in names if name.endswith(".json.gz")]
    return sorted(found)


def type_paths(duck_type, prefix, covered, open_paths):
    """Collects the key paths a DuckDB type can hold; lists are looked through."""
    kind = duck_type.id
    if kind == "struct":
        for name, child in duck_type.children:
            path = f"{prefix}.{name}" if prefix else name
            covered.append(path)
            type_paths(child, path, covered, open_paths)
    elif kind in ("list", "array"):
        type_paths(duck_type.children[0][1], prefix, covered, open_paths)
    elif kind in ("map", "varchar", "json", "union"):
        # Text keeps a nested object's JSON; a MAP keeps any key.
        open_paths.append(prefix)


def record_paths(con, table, column=None):
    """Key paths of one record in table: its columns, or the element type of column (Records)."""
    relation = con.sql(f"select * from {table} limit 0")
    covered, open_paths = [], []
    if column is None:
        for name, duck_type in zip(relation.columns, relation.types):
            covered.append(name)
            type_paths(duck_type, name, covered, open_paths)
    else:
        type_paths(relation.types[relation.columns.index(column)], "", covered, open_paths)
    return covered, open_paths


def main(argv):
    if len(argv) != 4 or argv[1] not in ("recipe", "recipe-all", "explicit", "auto"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mode, database, source = argv[1:]
    con = duckdb.connect(database)
    con.execute("set TimeZone = 'UTC'")
    result = {"ok": True, "error": None, "rows": None, "covered": [], "open": []}
    try:
        if mode in ("recipe", "recipe-all"):
            # As the notes have it: DuckDB's defaults, nothing tuned.
            options = ", sample_size = -1" if mode == "recipe-all" else ""
            con.execute(f"create table t as select * from read_json_auto($source{options})", {"source": source})
            result["rows"] = con.execute("select count(*) from t").fetchall()[0][0]
            result["covered"], result["open"] = record_paths(con, "t")
        elif mode == "explicit":
            # Settings a DuckDB user would pick for a large load, as the ingest does.
            con.execute("set preserve_insertion_order = false")
            con.execute(EXPLICIT_SQL, {"files": log_files(source)})
            result["rows"] = con.execute("select count(*) from events").fetchall()[0][0]
            covered, open_paths = [], []
            type_paths(duckdb.sqltype(" ".join(RECORD_TYPE.split())), "", covered, open_paths)
            result["covered"], result["open"] = covered, open_paths
        else:
            con.execute("set preserve_insertion_order = false")
            con.execute("create table t as select * from read_json_auto($files)", {"files": log_files(source)})
            result["rows"] = con.execute("select coalesce(sum(len(Records)), 0) from t").fetchall()[0][0]
            result["covered"], result["open"] = record_paths(con, "t", "Records")
    except duckdb.Error as error:
        message = str(error).strip()
        result.update(ok=False, error=message.splitlines()[0] if message else type(error).__name__)
    finally:
        con.close()
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
