"""Identity: detections that need the identity lineage (which key belongs to whom, which call
minted which session): service credentials replayed outside their service, one session used
from two unrelated networks, a role assumed right after a storm of denied calls, and data read
by the session that came out of it.

The detections are the .sql files beside this module; views.sql defines the views they share.
They read the table identity_lineage, which lineage.py builds from the events: analyze_identity.py
and analyze_hunt.py build it before the area runs (references/incidents.md explains it).
"""
from detections import Area, Setting

SETTINGS = (
    Setting("identity_storm_calls", "CLOUDTRAIL_IDENTITY_STORM_CALLS", 20,
            "Denied calls by one key or principal before a role assumption that count as a storm"),
    Setting("identity_storm_minutes", "CLOUDTRAIL_IDENTITY_STORM_MINUTES", 15,
            "Minutes before the role assumption in which the denied calls are counted"),
)


def data_notes(con):
    """What the lineage could and could not resolve, in the data in scope."""
    row = con.execute("""
        select
            count(*) filter (where key_type = 'session'),
            count(*) filter (where key_type = 'session' and first_principal = 'unknown'),
            count(*) filter (where service is not null)
        from identity_lineage
    """).fetchall()[0]
    sessions, unknown, service = row
    return [f"Identity lineage: {sessions:,} session key(s), of which {unknown:,} were minted by a call not in "
            f"these logs (their first principal is unknown); {service:,} key(s) are sessions AWS services "
            "minted for themselves."]


AREA = Area(
    name="identity",
    title="Identity lineage report: stolen sessions and escalation chains",
    tool="analyze_identity.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from identity_calls
        where event_time is not null
          and event_source = 'sts.amazonaws.com'
        group by minute
    """,
    activity_title="STS calls (sessions minted and checked)",
    settings=SETTINGS,
    data_notes=data_notes,
    notes=(
        "Every call is tied to the principal behind its access key through identity_lineage (lineage.py): a "
        "session key to the call that minted it and on, through role chaining, to the first principal. A "
        "session whose minting call is not in these logs has first principal 'unknown'; no detection guesses it.",
        "A service session (minted by Lambda, ECS, EC2, Glue, SageMaker, named after an instance, or used with "
        "a runtime's user agent) is normally used from AWS addresses, private addresses or VPC endpoints, or "
        "with its runtime's user agent; the role's service sessions show where (service_networks, "
        "service_agents).",
        "Denied-call storms are counted per access key and per principal, never per source IP: tools that "
        "brute-force permissions rotate addresses.",
    ),
)
