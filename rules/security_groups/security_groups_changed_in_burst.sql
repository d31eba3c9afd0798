/*
id: security_groups_changed_in_burst
title: Burst of security-group changes by one actor
severity: medium
mitre: [T1562.007]
status: stable
description: >
  Detects an actor making at least CLOUDTRAIL_SG_BURST_CHANGES (default 10) security-group
  changes (rules authorized, revoked or modified, groups created or deleted, failed calls
  included) within CLOUDTRAIL_SG_BURST_MINUTES (default 10). A script opening many groups at
  once, or trying group after group until one call is allowed, looks like this. One finding per
  burst.
false_positives: >
  Infrastructure-as-code applies and autoscaling tools that manage many rules at once.
triage:
  - 'Check the actor and user agent: a deployment role running Terraform or CloudFormation, or someone else?'
  - Look at the groups touched (details.groups) and whether any was opened to the Internet.
references:
  - https://attack.mitre.org/techniques/T1562/007/
*/
with changes as (
    select
        *,
        coalesce(request_parameters->>'$.groupId', request_parameters->>'$.ModifySecurityGroupRulesRequest.GroupId',
                 response_elements->>'$.groupId', request_parameters->>'$.groupName') as group_key,
        lag(event_time) over (partition by recipient_account_id, actor order by event_time, event_id) as previous_time
    from network_control_changes
    where event_name in (
          'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress',
          'RevokeSecurityGroupEgress', 'ModifySecurityGroupRules', 'UpdateSecurityGroupRuleDescriptionsIngress',
          'UpdateSecurityGroupRuleDescriptionsEgress', 'CreateSecurityGroup', 'DeleteSecurityGroup')
      and event_time is not null
),
sessions as (
    select
        *,
        sum(case when previous_time is null
                  or event_time - previous_time > to_minutes(getvariable('sg_burst_minutes')::bigint)
                 then 1 else 0 end)
            over (partition by recipient_account_id, actor order by event_time, event_id
                  rows between unbounded preceding and current row) as burst_number
    from changes
),
counted as (
    select
        *,
        count(*) over (partition by recipient_account_id, actor, burst_number order by event_time
                       range between to_minutes(getvariable('sg_burst_minutes')::bigint) preceding
                       and current row) as changes_in_window
    from sessions
)
select
    string_agg(distinct event_name, ', ' order by event_name) as event_name,
    concat(count(distinct group_key), ' security group(s)') as resource,
    string_agg(distinct source_ip, ', ' order by source_ip) as source_ip,
    string_agg(distinct aws_region, ', ' order by aws_region) as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    case when count(*) filter (where error_code is null) = 0 then 'all calls failed' end as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    concat(count(*), ' security-group changes across ',
           count(distinct group_key), ' group(s) from ', strftime(min(event_time), '%Y-%m-%d %H:%M'),
           ' to ', strftime(max(event_time), '%H:%M'), ' UTC (',
           count(*) filter (where error_code is not null), ' failed)') as summary,
    {'changes': count(*), 'failed': count(*) filter (where error_code is not null),
     'peak_changes_in_window': max(changes_in_window),
     'by_action': histogram(event_name),
     'groups': list(distinct group_key order by group_key)[:50],
     'user_agents': list(distinct user_agent order by user_agent)[:5]} as details
from counted
group by recipient_account_id, actor, burst_number
having max(changes_in_window) >= getvariable('sg_burst_changes')
