"""Hunt for console sign-in attacks: root sign-ins, sign-ins without MFA, failed sign-ins,
brute force and password spraying, success after failures, new source IPs, failed MFA,
console sessions minted from keys, root password changes.

usage: analyze_console_logins.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
console_logins_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/console_logins/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_BRUTE_FORCE_FAILURES  failed sign-ins from one IP, or for one user, that count as brute force (default 10)
  CLOUDTRAIL_BRUTE_FORCE_MINUTES   ... within this many minutes (default 15)
  CLOUDTRAIL_SPRAY_USERS           distinct user names failing from one IP that count as spraying (default 5)
  CLOUDTRAIL_SPRAY_MINUTES         ... within this many minutes (default 60)
  CLOUDTRAIL_FAILURES_BEFORE_SUCCESS  failures from an IP before a success from it that count (default 3)
  CLOUDTRAIL_FAILURES_LOOKBACK_MINUTES  ... looking back this many minutes (default 60)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "console_logins"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
