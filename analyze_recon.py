"""Hunt for reconnaissance: bursts of discovery calls, AccessDenied storms, the first
GetCallerIdentity of an access key, offensive-tool user agents, and EC2 instance-role
credentials used from outside their instance.

usage: analyze_recon.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
recon_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/recon/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_RECON_BURST_NEW_ACTIONS     discovery actions new to one identity that count as a burst (default 8)
  CLOUDTRAIL_RECON_BURST_SERVICES        ... on at least this many services (default 4)
  CLOUDTRAIL_RECON_BURST_MINUTES         ... within this many minutes (default 5)
  CLOUDTRAIL_RECON_DENIED_CALLS          denied calls by one identity from one IP that count as a storm (default 10)
  CLOUDTRAIL_RECON_DENIED_MINUTES        ... within this many minutes (default 10)
  CLOUDTRAIL_RECON_SHARED_EGRESS_INSTANCES  instances seen calling from one IP that make it look like a NAT
                                         gateway, lowering instance-credential findings from it to low (default 3)
  CLOUDTRAIL_RECON_EXTRA_AGENTS          extra offensive-tool user-agent patterns, comma-separated,
                                         matched case-insensitively as substrings (e.g. "mytool,redteam-")
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "recon"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
