/*
id: security_group_opened_to_public_range
title: Security group ingress opened to a public address range
severity: medium
mitre: [T1562.007]
status: stable
description: >
  Detects calls that allow inbound traffic into a security group from a public address range
  that is not the whole Internet, such as one outside IP with /32. An attacker who wants quiet
  access adds a rule for their own address rather than 0.0.0.0/0. Severity follows the ports,
  one level lower than for the whole Internet, except for ranges of /8 or wider, which count as
  the Internet. Calls already reported by security_group_opened_to_internet are left out.
false_positives: >
  Office, VPN or partner addresses added by administrators; monitoring services.
triage:
  - Look up who owns the address range (whois, your office and VPN ranges).
  - Confirm the change with the actor's owner; check the exposed hosts' logins from that range.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifySecurityGroupRules.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRuleRequest.html
  - https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-security-group-open-port-22-ingress/
*/
select
    group_id as resource,
    event_id,
    case public_rank when 3 then 'high' when 2 then 'medium' else 'low' end as severity,
    concat(coalesce(group_id, '?'), ' ingress opened to public range(s): ', public_rules,
           case when direction_unknown then ' (direction unknown)' else '' end) as summary,
    {'rules': rules, 'user_agent': user_agent, 'error_message': error_message} as details
from security_group_ingress_openings
where public_grants > 0
  and internet_grants = 0
