"""Hunt for network exposure: security groups opened to the Internet or to public addresses,
egress opened to all, security groups created or deleted, network ACL entries that allow
all, network ACL changes, bursts of security-group changes, routes to an internet gateway,
databases made public, traffic mirroring, and RDS DB security groups opened.

usage: analyze_security_groups.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
security_groups_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/security_groups/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_SG_BURST_CHANGES  security-group changes by one actor that count as a burst (default 10)
  CLOUDTRAIL_SG_BURST_MINUTES  ... within this many minutes (default 10)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "security_groups"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
