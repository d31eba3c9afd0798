/*
id: security_group_opened_to_internet
title: Security group ingress opened to the Internet
severity: high
mitre: [T1562.007]
status: stable
description: >
  Detects calls that allow inbound traffic from the whole Internet (a CIDR with prefix length 0)
  into a security group: AuthorizeSecurityGroupIngress in both request shapes, and
  ModifySecurityGroupRules. Attackers open SSH, RDP or database ports to reach instances
  directly or to keep a way back in. Severity follows the ports (see Notes); failed calls are
  reported as attempts.
false_positives: >
  Public web servers and load balancers opened on 80/443 (reported low); engineers opening SSH
  briefly for debugging.
triage:
  - Check which instances, load balancers or databases use the group (`aws ec2 describe-network-interfaces --filters Name=group-id,Values=GROUP`).
  - Confirm the change with the actor's owner; look at what the actor did just before and after.
  - If unexpected, revoke the rule and review logins on the exposed hosts since the rule was added.
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
    case internet_rank when 3 then 'high' when 2 then 'medium' else 'low' end as severity,
    concat(coalesce(group_id, '?'), ' ingress opened to the Internet: ', internet_rules,
           case when direction_unknown then ' (direction unknown)' else '' end) as summary,
    {'rules': rules, 'user_agent': user_agent, 'error_message': error_message} as details
from security_group_ingress_openings
where internet_grants > 0
