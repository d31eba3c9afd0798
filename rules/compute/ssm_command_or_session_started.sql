/*
id: ssm_command_or_session_started
title: SSM command or session on instances by a person, a new principal, or on many instances
severity: medium
mitre: [T1651, T1021.007]
status: stable
description: >
  Detects SSM SendCommand and StartSession (and StartSession through Session Manager's
  port forwarding documents) when the caller is a person (IAM user, root, Identity Center or
  console session), or the principal had not sent commands or started sessions before in the
  loaded data, or one call targets at least ssm_instance_count instances or a tag or wildcard
  target (high). Run Command (AWS-RunShellScript, AWS-RunPowerShellScript) and Session Manager
  give a shell on every managed instance without SSH keys or open ports. Automation roles that
  run commands routinely are not reported once their history is in the data.
false_positives: >
  Administrators using Session Manager instead of SSH; patching and configuration tools running
  commands on fleets under a new role.
triage:
  - Check the document, targets and command parameters (details); get the output with aws ssm list-command-invocations --details.
  - Compare the caller with those who normally run commands on these instances.
  - Review what the instances' roles did after the command (stolen instance credentials).
references:
  - https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
  - https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.execution.ssm-send-command/
  - https://attack.mitre.org/techniques/T1651/
*/
with calls as (
    select
        *,
        list_filter(list_concat(json_extract_string(request_parameters, '$.instanceIds[*]'),
                                [request_parameters->>'$.target']), lambda v: v is not null) as instances,
        (request_parameters->'$.targets') is not null
            and coalesce(json_array_length(request_parameters->'$.targets'), 0) > 0 as tag_targets,
        coalesce(request_parameters->>'$.documentName', 'SSM-SessionManagerRunShell') as document
    from compute_events
    where event_source = 'ssm.amazonaws.com' and event_name in ('SendCommand', 'StartSession')
),
judged as (
    select
        c.*,
        not exists (select 1 from compute_history as h
                    where h.principal = c.principal and h.event_source = c.event_source and h.event_name = c.event_name
                      and (h.event_time < c.event_time or (h.event_time = c.event_time and h.event_id < c.event_id))) as first_use,
        len(c.instances) >= getvariable('ssm_instance_count')
            or c.tag_targets or list_contains(c.instances, '*') as wide
    from calls as c
)
select
    event_id,
    array_to_string(instances[1:5], ', ') || case when len(instances) > 5 then ', ...' else '' end as resource,
    concat(attempt, event_name, ' (', document, ') on ',
           case when tag_targets then 'instances chosen by tag' else concat(len(instances), ' instance(s)') end,
           ': ', array_to_string(list_filter([case when person then 'by a person' end,
                                              case when first_use then 'first such call by this principal in the data' end,
                                              case when wide then 'many targets' end], lambda r: r is not null), '; ')) as summary,
    {'document': document, 'instances': instances, 'targets': request_parameters->'$.targets',
     'person': person, 'first_use': first_use, 'user_agent': user_agent} as details,
    case when wide then 'high' end as severity
from judged
where person or first_use or wide
