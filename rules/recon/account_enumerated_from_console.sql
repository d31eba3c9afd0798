/*
id: account_enumerated_from_console
title: Burst of new discovery calls across services from a console session
severity: low
mitre: [T1580, T1526]
status: stable
description: >
  Detects the same bursts of new discovery calls across services when they come from an AWS
  console session. The console issues many Describe/List calls for every page, so this is usually
  a person browsing; it matters when the person should not be there (a console session minted from
  stolen keys, a taken-over user).
false_positives: >
  Anyone opening console pages (the EC2 dashboard alone makes a dozen distinct calls).
triage:
  - Confirm that the user signed in to the console at that time (see analyze_console_logins.py).
  - If the sign-in is suspicious, review the pages visited (the actions listed) and what changed after.
references:
  - https://attack.mitre.org/techniques/T1580/
  - https://attack.mitre.org/techniques/T1526/
*/
select
    event_name,
    resource,
    actor,
    source_ip,
    account_id,
    region,
    event_id,
    error_code,
    event_ids,
    severity,
    summary,
    details
from recon_discovery_burst_findings
where console_session
