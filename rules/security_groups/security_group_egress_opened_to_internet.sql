/*
id: security_group_egress_opened_to_internet
title: Security group egress opened to the Internet
severity: low
mitre: [T1562.007, T1048]
status: stable
description: >
  Detects calls that add an egress rule to a security group allowing traffic to the whole
  Internet (AuthorizeSecurityGroupEgress, or ModifySecurityGroupRules on a known egress rule).
  Where egress was restricted, reopening it lets a compromised host reach command-and-control
  servers and send data out.
false_positives: >
  Infrastructure-as-code tools re-adding AWS's default allow-all egress rule after creating a
  group (see Notes).
triage:
  - Check whether the group's egress was deliberately restricted before (earlier Revoke calls).
  - Confirm the change with the actor's owner; review outbound traffic from hosts in the group.
references:
  - https://attack.mitre.org/techniques/T1562/007/
  - https://attack.mitre.org/techniques/T1048/
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupEgress.html
  - https://docs.aws.amazon.com/vpc/latest/userguide/creating-security-groups.html
*/
with opened as (
    select
        event_id,
        string_agg(concat(ports, ' to ', source), '; ' order by ports, source, concat(ports, ' to ', source))
            filter (where scope = 'internet') as internet_rules,
        -- Ties (same ports and destination) are ordered by the whole entry: one order.
        list({'direction': direction, 'ports': ports, 'destination': source, 'scope': scope,
              'rule_id': rule_id}
             order by ports, source,
                      {'direction': direction, 'ports': ports, 'destination': source, 'scope': scope,
                       'rule_id': rule_id}) as rules
    from security_group_grants
    where direction = 'egress'
    group by event_id
    having count(*) filter (where scope = 'internet') > 0
)
select
    e.group_id as resource,
    e.event_id,
    concat(coalesce(e.group_id, '?'), ' egress opened to the Internet: ', o.internet_rules) as summary,
    {'rules': o.rules, 'user_agent': e.user_agent, 'error_message': e.error_message} as details
from security_group_rule_calls as e
join opened as o using (event_id)
