"""The case database: DuckDB connection settings, schema, and the deduplicating batch insert.

Tables (documented column by column in README.md):
  events          one row per unique CloudTrail event, keyed by event_id
  ingested_files  one row per input file and what became of it
  findings        what the detectors found (see detections.py)
  runs            one row per run of any script
View and macros:
  scoped_events   events inside the window set with set_window() (all events when unset)
  in_window(t)    true when t is inside that window
  severity_rank, most_severe, arn_account, arn_resource  (shared_macros_sql)
"""
import os
import re
import time
from pathlib import Path

import duckdb

from common import ToolError, env_number, env_size, env_text, max_workers

DEFAULT_MEMORY_LIMIT = "2GB"

# (column, CloudTrail source, meaning) - README.md's column table is checked against this list.
EVENT_COLUMNS = [
    ("event_id", "eventID", "event id; a record without one gets `sha256:` + a hash of its content. Unique in real logs; hand-made records that reuse an id for different events are all kept (see Deduplication)"),
    ("event_time", "eventTime", "TIMESTAMPTZ in UTC; NULL when the record's time cannot be read or is not a real time: infinity, epoch, before 1970 or after 8999 (see ingest_note)"),
    ("event_source", "eventSource", "service endpoint, e.g. `iam.amazonaws.com`"),
    ("event_name", "eventName", "API action, e.g. `CreateUser`"),
    ("aws_region", "awsRegion", "region the request was made to"),
    ("source_ip", "sourceIPAddress", "caller IP address, or an AWS service name"),
    ("user_agent", "userAgent", "caller's user agent (attacker-controlled text)"),
    ("error_code", "errorCode", "NULL when the call succeeded"),
    ("error_message", "errorMessage", "error text"),
    ("read_only", "readOnly", "BOOLEAN"),
    ("event_type", "eventType", "AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, AwsCloudTrailInsight, ..."),
    ("event_category", "eventCategory", "Management, Data, Insight, NetworkActivity"),
    ("management_event", "managementEvent", "BOOLEAN"),
    ("recipient_account_id", "recipientAccountId", "account that received the event"),
    ("shared_event_id", "sharedEventID", "same value in the copies of a cross-account event"),
    ("request_id", "requestID", "request id"),
    ("event_version", "eventVersion", "record format version"),
    ("vpc_endpoint_id", "vpcEndpointId", "VPC endpoint the call came through"),
    ("user_type", "userIdentity.type", "Root, IAMUser, AssumedRole, FederatedUser, AWSService, AWSAccount, ..."),
    ("user_arn", "userIdentity.arn", "caller ARN (absent on failed console sign-ins)"),
    ("user_name", "userIdentity.userName", "IAM user name, or the name typed at a failed sign-in"),
    ("principal_id", "userIdentity.principalId", "principal id (`AROA...:session` for roles)"),
    ("access_key_id", "userIdentity.accessKeyId", "`AKIA` long-term or `ASIA` temporary key"),
    ("user_account_id", "userIdentity.accountId", "account of the caller"),
    ("session_issuer_arn", "userIdentity.sessionContext.sessionIssuer.arn", "role or user that issued the session"),
    ("session_issuer_name", "userIdentity.sessionContext.sessionIssuer.userName", "name of that role or user"),
    ("session_issuer_type", "userIdentity.sessionContext.sessionIssuer.type", "Role, IAMUser, Root"),
    ("mfa_authenticated", "userIdentity.sessionContext.attributes.mfaAuthenticated", "BOOLEAN"),
    ("session_credential_from_console", "sessionCredentialFromConsole", "BOOLEAN; true for calls made by the web console"),
    ("invoked_by", "userIdentity.invokedBy", "AWS service that made the call on the caller's behalf"),
    ("actor", "derived", "who acted, for display and grouping: the first present of userIdentity.arn, userName, invokedBy, principalId, type"),
    ("request_parameters", "requestParameters", "JSON; SQL NULL when absent or null"),
    ("response_elements", "responseElements", "JSON; SQL NULL when absent or null"),
    ("additional_event_data", "additionalEventData", "JSON"),
    ("resources", "resources", "JSON list"),
    ("tls_details", "tlsDetails", "JSON"),
    ("service_event_details", "serviceEventDetails", "JSON"),
    ("record", "the whole record", "JSON text of the original record: every field, including ones added by AWS later"),
    ("source_file", "input file", "file the event was first read from (`<stdin>` for standard input)"),
    ("ingest_note", "derived", "why a field could not be read (missing eventID, unreadable eventTime); NULL normally"),
    ("load_id", "derived", "the ingest batch that stored the row"),
]

SCHEMA_SQL = """
create sequence if not exists load_ids;

create table if not exists events (
    event_id varchar not null,
    event_time timestamptz,
    event_source varchar,
    event_name varchar,
    aws_region varchar,
    source_ip varchar,
    user_agent varchar,
    error_code varchar,
    error_message varchar,
    read_only boolean,
    event_type varchar,
    event_category varchar,
    management_event boolean,
    recipient_account_id varchar,
    shared_event_id varchar,
    request_id varchar,
    event_version varchar,
    vpc_endpoint_id varchar,
    user_type varchar,
    user_arn varchar,
    user_name varchar,
    principal_id varchar,
    access_key_id varchar,
    user_account_id varchar,
    session_issuer_arn varchar,
    session_issuer_name varchar,
    session_issuer_type varchar,
    mfa_authenticated boolean,
    session_credential_from_console boolean,
    invoked_by varchar,
    actor varchar,
    request_parameters json using compression zstd,
    response_elements json using compression zstd,
    additional_event_data json using compression zstd,
    resources json using compression zstd,
    tls_details json using compression zstd,
    service_event_details json using compression zstd,
    record json using compression zstd,
    source_file varchar,
    ingest_note varchar,
    load_id bigint
);

create table if not exists ingested_files (
    path varchar not null,
    size bigint,
    modified_at timestamptz,
    mtime_ns bigint,
    sha256 varchar,
    records_read bigint,
    bad_records bigint,
    new_events bigint,
    duplicate_events bigint,
    status varchar,
    reason varchar,
    ingested_at timestamptz,
    run_id varchar
);

create table if not exists findings (
    detector varchar,
    detection_id varchar,
    title varchar,
    severity varchar,
    mitre varchar[],
    first_time timestamptz,
    last_time timestamptz,
    event_id varchar,
    event_ids varchar[],
    error_code varchar,
    actor varchar,
    source_ip varchar,
    account_id varchar,
    region varchar,
    resource varchar,
    summary varchar,
    details json,
    run_id varchar,
    window_since timestamptz,
    window_until timestamptz,
    found_at timestamptz
);

create table if not exists runs (
    run_id varchar,
    tool varchar,
    arguments varchar,
    started_at timestamptz,
    finished_at timestamptz,
    exit_code integer,
    summary json
);

-- The run's SINCE/UNTIL window, set with `set variable since = ...` (open when unset).
create or replace macro in_window(t) as
    (getvariable('since') is null or t >= getvariable('since'))
    and (getvariable('until') is null or t < getvariable('until'));

create or replace view scoped_events as
select *
from events
where in_window(event_time);
"""

# How a record becomes a row. The parser processes run EXTRACT_SQL, each on its own in-memory
# DuckDB, over an Arrow table `records` (record: the record as Arrow JSON, and source_file);
# a record without an eventID leaves event_id NULL here and gets the hash of its content from
# logfiles.with_content_ids; the parent process then only checks for duplicates and writes.
#
# One json_transform call reads every field in one pass over the record (a json_extract_string
# call for the scalars and a json_extract call for the nested objects parsed each record twice:
# 30% more CPU for the same columns). It is the lenient form: a field of an unexpected shape
# (userIdentity as a string, a list where text was expected) gives NULL or its JSON text, never
# an error. Keys match case-sensitively and the first of duplicate keys wins, as with
# json_extract. Scalars are read as text (a number or boolean as its JSON text, an object as
# JSON) and converted here with try_cast; the nested objects stay JSON (a JSON string stays a
# string), and JSON null becomes SQL NULL.
EXTRACT_SQL = """
select
    nullif(r.eventID, '') as event_id,
    case when parsed_time > timestamptz '1970-01-01 00:00:00+00' and parsed_time < timestamptz '9000-01-01 00:00:00+00'
         then parsed_time end as event_time,
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
    r.userIdentity.type as user_type,
    r.userIdentity.arn as user_arn,
    r.userIdentity.userName as user_name,
    r.userIdentity.principalId as principal_id,
    r.userIdentity.accessKeyId as access_key_id,
    r.userIdentity.accountId as user_account_id,
    r.userIdentity.sessionContext.sessionIssuer.arn as session_issuer_arn,
    r.userIdentity.sessionContext.sessionIssuer.userName as session_issuer_name,
    r.userIdentity.sessionContext.sessionIssuer.type as session_issuer_type,
    try_cast(r.userIdentity.sessionContext.attributes.mfaAuthenticated as boolean) as mfa_authenticated,
    try_cast(r.sessionCredentialFromConsole as boolean) as session_credential_from_console,
    r.userIdentity.invokedBy as invoked_by,
    coalesce(nullif(r.userIdentity.arn, ''), nullif(r.userIdentity.userName, ''),
             nullif(r.userIdentity.invokedBy, ''), nullif(r.userIdentity.principalId, ''),
             r.userIdentity.type) as actor,
    r.requestParameters as request_parameters,
    r.responseElements as response_elements,
    r.additionalEventData as additional_event_data,
    r.resources as resources,
    r.tlsDetails as tls_details,
    r.serviceEventDetails as service_event_details,
    record,
    source_file,
    nullif(concat_ws('; ',
        case when nullif(r.eventID, '') is null then 'no eventID: event_id is a hash of the record' end,
        case when r.eventTime is null then 'no eventTime'
             when parsed_time is null then 'eventTime not understood: ' || left(r.eventTime, 80)
             when not (parsed_time > timestamptz '1970-01-01 00:00:00+00' and parsed_time < timestamptz '9000-01-01 00:00:00+00')
             then 'eventTime not a real time (before 1970 or after 8999, or infinity): ' || left(r.eventTime, 80) end
    ), '') as ingest_note
from (
  -- The time is read once; DuckDB also reads 'infinity', '-infinity', 'epoch' and years past
  -- 9999, none of which is a time CloudTrail writes: those rows get NULL and a note.
  select *, try_cast(r.eventTime as timestamptz) as parsed_time
  from (
    select
        json_transform(record, '{
            "eventID": "VARCHAR", "eventTime": "VARCHAR", "eventSource": "VARCHAR",
            "eventName": "VARCHAR", "awsRegion": "VARCHAR", "sourceIPAddress": "VARCHAR",
            "userAgent": "VARCHAR", "errorCode": "VARCHAR", "errorMessage": "VARCHAR",
            "readOnly": "VARCHAR", "eventType": "VARCHAR", "eventCategory": "VARCHAR",
            "managementEvent": "VARCHAR", "recipientAccountId": "VARCHAR",
            "sharedEventID": "VARCHAR", "requestID": "VARCHAR", "eventVersion": "VARCHAR",
            "vpcEndpointId": "VARCHAR", "sessionCredentialFromConsole": "VARCHAR",
            "userIdentity": {
                "type": "VARCHAR", "arn": "VARCHAR", "userName": "VARCHAR", "principalId": "VARCHAR",
                "accessKeyId": "VARCHAR", "accountId": "VARCHAR", "invokedBy": "VARCHAR",
                "sessionContext": {
                    "sessionIssuer": {"arn": "VARCHAR", "userName": "VARCHAR", "type": "VARCHAR"},
                    "attributes": {"mfaAuthenticated": "VARCHAR"}
                }
            },
            "requestParameters": "JSON", "responseElements": "JSON", "additionalEventData": "JSON",
            "resources": "JSON", "tlsDetails": "JSON", "serviceEventDetails": "JSON"
        }') as r,
        record, source_file
    from records
  )
)
"""

# `batch` holds the extracted rows of a batch of files, with `ord` giving input order.
# Two records are the same event when eventID, account, time, action, source IP and
# caller all match. A record delivered twice matches on all of them. Hand-made records
# that reuse one eventID for different events (public test data does: a victim's and an
# attacker's sign-in with the same id and second) differ in one of them and are both kept,
# so no event is silently lost. Comparing fields rather than the whole text keeps records
# that jq re-printed (0.0 written as 0) equal to the originals.
#
# Only stored events inside the batch's time span ($low to $high, passed as constants) are
# compared, so DuckDB skips the row groups outside it by their min/max: the check costs the
# same at 20 million events as at 2 million. Records without a readable time are compared
# with the stored ones that have none.
NEW_RECORDS_SQL = """
create or replace temp table new_records as
with first_copies as (
    -- group by treats NULLs as equal, like the checks against stored events below
    select min(ord) as ord
    from batch
    group by event_id, recipient_account_id, event_time, event_name, source_ip, principal_id
)
select ord
from batch
semi join first_copies using (ord)
where not exists (
    select 1
    from events as stored
    where stored.event_time between $low and $high
      and stored.event_time = batch.event_time
      and stored.event_id = batch.event_id
      and stored.recipient_account_id is not distinct from batch.recipient_account_id
      and stored.event_name is not distinct from batch.event_name
      and stored.source_ip is not distinct from batch.source_ip
      and stored.principal_id is not distinct from batch.principal_id
)
and not exists (
    select 1
    from events as stored
    where stored.event_time is null
      and batch.event_time is null
      and stored.event_id = batch.event_id
      and stored.recipient_account_id is not distinct from batch.recipient_account_id
      and stored.event_name is not distinct from batch.event_name
      and stored.source_ip is not distinct from batch.source_ip
      and stored.principal_id is not distinct from batch.principal_id
)
"""

# Each batch is stored sorted by service and action: a detection reads a few event names, and
# with the rows of one name side by side DuckDB skips the other rows' blocks (their min/max do
# not match) instead of decompressing every block's JSON to find a few hundred rows. On a
# 2M-event case a typical rule's scan took 30 times less CPU and the hunt about a fifth less.
INSERT_BATCH_SQL = """
insert into events by name
select * exclude (ord), $load_id as load_id
from batch
semi join new_records using (ord)
order by event_source, event_name
"""

INSERT_ALL_SQL = """
insert into events by name
select * exclude (ord), $load_id as load_id
from batch
order by event_source, event_name
"""


def memory_limit():
    """DuckDB memory_limit from $CLOUDTRAIL_MEMORY_LIMIT (default 2GB)."""
    memory_limit_bytes()
    return env_text("CLOUDTRAIL_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


def memory_limit_bytes():
    """The memory limit in bytes (DuckDB reads KB, MB, GB as powers of 1000)."""
    return env_size("CLOUDTRAIL_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


# Never load or download a DuckDB extension: the toolkit works offline, and a file that is not
# a DuckDB database (SQLite, say) would otherwise make DuckDB fetch a reader from the Internet.
NO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

_LOCK_HOLDER = re.compile(r"PID (\d+)")


def connect(db_path, create=False, threads=None, memory=None):
    """Opens the case database with the memory limit and a spill folder beside it (threads:
    DuckDB's default thread count here, unless CLOUDTRAIL_THREADS says otherwise; memory: a
    part of the memory limit, for a caller that holds data of its own next to DuckDB).

    Raises ToolError with one line for a missing database, a database another
    process is writing, or a file that is not a DuckDB database.
    """
    path = Path(db_path)
    if not create and not path.exists():
        raise ToolError(f"{db_path}: no such database - run analyze_ingest.py first")
    if path.is_dir():
        raise ToolError(f"{db_path}: is a folder, not a database file")
    _check_file_kind(path, db_path)
    wait_seconds = env_number("CLOUDTRAIL_LOCK_WAIT", 0, float, high=7 * 24 * 3600)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), config={
                "memory_limit": memory or memory_limit(),
                "temp_directory": str(path.parent / (path.name + ".tmp")),
                "threads": env_number("CLOUDTRAIL_THREADS", threads or os.cpu_count() or 2, low=1, high=max_workers()),
                **NO_EXTENSIONS,
            })
            break
        except duckdb.IOException as error:
            message = str(error)
            if "lock" in message.lower():
                if time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                holder = _LOCK_HOLDER.search(message)
                who = f" (process {holder.group(1)})" if holder else ""
                raise ToolError(f"{db_path}: in use by another process{who} - wait for it to finish, "
                                "or set CLOUDTRAIL_LOCK_WAIT=SECONDS to wait") from None
            if "read-only" in message.lower() or "permission" in message.lower():
                raise ToolError(f"{db_path}: cannot open for writing ({_first_line(message)}) - check the folder's permissions") from None
            raise ToolError(f"{db_path}: cannot open ({_first_line(message)})") from None
        except duckdb.Error as error:
            raise ToolError(f"{db_path}: not a usable DuckDB database ({_first_line(str(error))})") from None
    con.execute("set TimeZone = 'UTC'")
    # Large inserts are written in parallel when row order need not be kept.
    con.execute("set preserve_insertion_order = false")
    con.execute("set max_vacuum_tasks = 0")
    return con


# DuckDB database files carry these bytes at offset 8.
_DUCKDB_MAGIC = b"DUCK"


def _check_file_kind(path, db_path):
    """Refuses an existing file that is not a DuckDB database before DuckDB opens it."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise ToolError(f"{db_path}: is a folder, not a database file") from None
    except OSError as error:
        raise ToolError(f"{db_path}: cannot open ({error.strerror})") from None
    if head and head[8:12] != _DUCKDB_MAGIC:
        kind = " (it is a SQLite database)" if head.startswith(b"SQLite format 3") else ""
        raise ToolError(f"{db_path}: not a case database made by this toolkit{kind} - give the name of a "
                        "new file or of a database analyze_ingest.py created; this file was not changed")


def _first_line(message):
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


# Columns added after a table was first released, so older case databases keep working.
MIGRATIONS = (
    "alter table findings add column if not exists error_code varchar",
)


# Written into every case database at creation: a database without it (and without the
# tables an older toolkit database has) was made by something else and is never changed.
MARKER_SQL = """
create table if not exists toolkit_info (key varchar primary key, value varchar);
insert or ignore into toolkit_info values ('made_by', 'cloudtrail-toolkit'), ('schema_version', '1');
"""


def check_own_database(con):
    """Refuses (ToolError, one line) a database that holds objects but was not made by the
    toolkit; marks a new, empty database (and an older toolkit database) as the toolkit's."""
    objects = dict(con.execute("""
        select name, kind from (
            select table_name as name, 'table' as kind from duckdb_tables()
            where database_name = current_database() and not internal
            union all
            select view_name, 'view' from duckdb_views()
            where database_name = current_database() and not internal
            union all
            select function_name, 'macro' from duckdb_functions()
            where database_name = current_database() and not internal and function_type like '%macro%'
        ) order by name""").fetchall())
    if "toolkit_info" in objects:
        return
    columns = {(table, column) for table, column in con.execute("""
        select table_name, column_name from duckdb_columns()
        where database_name = current_database() and table_name in ('events', 'ingested_files')""").fetchall()}
    older_toolkit = {("events", "event_id"), ("events", "record"), ("events", "load_id"),
                     ("ingested_files", "path"), ("ingested_files", "sha256")} <= columns
    if objects and not older_toolkit:
        path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
        shown = ", ".join(f"{kind} {name}" for name, kind in list(objects.items())[:5])
        raise ToolError(f"{path[0][0] if path else 'database'}: not a case database made by this toolkit "
                        f"(it holds {shown}) - give the name of a new file; this database was not changed")
    con.execute(MARKER_SQL)


def ensure_schema(con):
    check_own_database(con)
    con.execute(SCHEMA_SQL)
    for statement in MIGRATIONS:
        con.execute(statement)
    con.execute(shared_macros_sql())


def shared_macros_sql():
    """Macros every rule may use, stored in the case so that a rule file runs as it is in the
    duckdb shell. Built from their one definition: the severity order of detections.py and the
    ARN pattern of rules/aws_policy.py (imported here, not at the top: both import this module).

      severity_rank(s)     1 = critical ... 5 = info (detections.SEVERITY_RANK_SQL)
      most_severe(list)    the most severe of a list of severities (NULL for an empty list)
      arn_account(arn)     the account part of an ARN ('' when it has none or is not an ARN)
      arn_resource(arn)    the resource part of an ARN ('' when it is not an ARN)
    """
    import detections
    from rules.aws_policy import ARN

    pattern = ARN.pattern.replace("'", "''")
    return f"""
create or replace macro severity_rank(severity) as {detections.SEVERITY_RANK_SQL};
create or replace macro most_severe(severities) as
    list_filter(severities, lambda s: severity_rank(s) = list_min(list_transform(severities, lambda x: severity_rank(x))))[1];
create or replace macro arn_account(arn) as regexp_extract(arn, '{pattern}', 4);
create or replace macro arn_resource(arn) as regexp_extract(arn, '{pattern}', 5);
"""


def open_case(db_path):
    """Opens an existing case database for a detector or investigation script."""
    con = connect(db_path)
    try:
        ensure_schema(con)
    except ToolError:
        con.close()
        raise
    except duckdb.Error as error:
        con.close()
        raise ToolError(f"{db_path}: cannot prepare the database ({_first_line(str(error))})") from None
    return con


def set_window(con, since, until):
    """Restricts the scoped_events view to [since, until); None leaves that side open."""
    if since is None:
        con.execute("reset variable since")
    else:
        con.execute("set variable since = $1::timestamptz", [since])
    if until is None:
        con.execute("reset variable until")
    else:
        con.execute("set variable until = $1::timestamptz", [until])


def record_run(con, run_id, tool, arguments, started_at, finished_at, exit_code, summary):
    con.execute("insert into runs values (?, ?, ?, ?, ?, ?, ?)",
                [run_id, tool, arguments, started_at, finished_at, exit_code, summary])


def rows(con, sql, params=None):
    """All rows of a query. (DuckDB 2 keeps a result open until it is fully fetched, so
    the toolkit never leaves one half-read: fetchone() would block the next register().)"""
    return con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()


def one(con, sql, params=None):
    """The single row of a query."""
    found = rows(con, sql, params)
    return found[0] if found else None


def scalar(con, sql, params=None):
    """The first value of the single row of a query."""
    row = one(con, sql, params)
    return row[0] if row else None


def frame(con, sql, params=None):
    """A query's rows as a pandas DataFrame (through Arrow: no per-row Python work)."""
    return con.sql(sql, params=params).to_arrow_table().to_pandas()
