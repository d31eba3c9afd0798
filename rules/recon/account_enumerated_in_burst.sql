/*
id: account_enumerated_in_burst
title: Burst of new discovery calls across services by one identity
severity: medium
mitre: [T1580, T1526, T1087.004, T1069.003]
status: stable
description: >
  Detects one identity making at least recon_burst_new_actions List/Describe/Get-style calls it
  had never made before in the loaded data, on at least recon_burst_services services, within
  recon_burst_minutes, outside the console. Someone holding new credentials maps what they can
  reach (users, roles, buckets, instances, trails, detectors) before acting; tools such as Pacu,
  ScoutSuite or enumerate-iam sweep many services in seconds, while applications and people repeat
  the few calls they always make. One finding per burst, with every discovery call in it; low when
  the data shows nothing earlier for the identity to compare with.
false_positives: >
  Inventory and security scanners (Prowler, ScoutSuite, CSPM products), Terraform or
  CloudFormation plans that refresh many resources, engineers exploring with the CLI.
triage:
  - 'Identify the identity and its access key: is it a scanner or IaC role that does this on a schedule?'
  - Compare the source IP and user agent with the identity's other calls (analyze_actor.py); a new IP or an unusual agent means someone else may hold the keys.
  - Check what the identity did after the burst (writes, AssumeRole, data reads).
references:
  - https://attack.mitre.org/techniques/T1580/
  - https://attack.mitre.org/techniques/T1526/
  - https://attack.mitre.org/techniques/T1087/004/
  - https://attack.mitre.org/techniques/T1069/003/
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
where not console_session
