"""Hunt with the identity lineage: service credentials (Lambda, ECS, EC2 ...) used from outside
their service, one session's credentials used from two unrelated networks, a role assumed right
after a storm of denied calls, and data read by the session born from it.

usage: analyze_identity.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

First (re)builds the table identity_lineage from all the events (every access key resolved to
the principal and the chain behind it), then writes findings to the database (replacing this
script's earlier findings), a report identity_report-YY-MM-DD-HH-MM.md with PNG charts, and an
analyst log entry.

The detections are the files in rules/identity/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_IDENTITY_STORM_CALLS    denied calls by one key or principal before a role assumption
                                     that count as a storm (default 20)
  CLOUDTRAIL_IDENTITY_STORM_MINUTES  ... within this many minutes before it (default 15)
"""
import sys

import casedb
import common
import detections
import lineage


def build_lineage(db_path):
    """Builds identity_lineage in the case (the area's views read it)."""
    con = casedb.open_case(db_path)
    try:
        lineage.build(con, db_path)
    finally:
        con.close()


def run(argv):
    db_path, _, _, _ = detections.parse_detector_args(argv)
    build_lineage(db_path)
    return detections.area_main(argv, "identity")


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
