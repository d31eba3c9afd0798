/*
id: service_credentials_used_outside_service
title: Service session credentials used from outside the service
severity: high
mitre: [T1552.005, T1078.004]
status: experimental
description: >
  Detects calls made with the temporary credentials of a session that an AWS service minted for
  itself (a Lambda function, an ECS task, an EC2 instance profile, Glue, SageMaker: minted by the
  service in these logs, named after an instance, or used with the service runtime's user agent)
  from a public address, with a client the role's service sessions never use, from a network they
  never use. When AWS's ip-ranges.json is given (ipcontext: CLOUDTRAIL_IP_RANGES or beside the
  case), any public address outside all of AWS's published ranges is enough: a function, task or
  instance runs inside AWS, so its session has no reason to call from elsewhere, whatever the
  client. Credentials read from a function's environment, a task's metadata endpoint or an
  instance's metadata service and replayed from a laptop look exactly like this. One finding per
  session key and source address.
false_positives: >
  A developer deliberately copying a function's or instance's credentials to debug; an instance
  in a public subnet calling AWS with a client the logs have not seen from the role before; ECS
  Anywhere tasks and SSM hybrid nodes (on your own servers, outside AWS) when they call without
  the runtime's user agent; an ip-ranges.json older than the address's allocation to AWS.
triage:
  - Compare the source address and user agent with the role's service use (details.service_networks, details.service_agents).
  - details.address says what the address files know of the source (AWS service and region, country, ASN); details.outside_aws true means it is in none of AWS's published ranges.
  - If the address is not yours, revoke the role's sessions (an inline deny on aws:TokenIssueTime older than now) and find how the credentials leaked (function code, SSRF to the metadata service, environment variables).
  - Run analyze_actor.py on the session key to see everything it did from that address.
references:
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html
  - https://hackingthe.cloud/aws/exploitation/lambda-steal-iam-credentials/
  - https://summitroute.com/downloads/flaws_challenge.pdf
*/
select
    arg_min(event_id, (event_time, event_id)) as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    coalesce(session_arn, principal) as resource,
    concat(service, ' session ', coalesce(session_arn, principal), ' (', service_evidence, ') used from ',
           source_ip,
           case when in_aws = false then ' (outside AWS''s published ranges)'
                when address_label is not null then concat(' (', address_label, ')') else '' end,
           ' with ', agent_family, ': ', count(*), ' call(s) of ',
           array_to_string(list(distinct event_name order by event_name)[:5], ', '),
           case when count(distinct event_name) > 5 then ', ...' else '' end,
           case when count(*) filter (where error_code is not null) > 0
                then concat(' (', count(*) filter (where error_code is not null), ' denied)') else '' end,
           '; the role''s service sessions are used from ',
           coalesce(nullif(array_to_string(service_networks, ', '), ''), 'nowhere else in these logs'),
           ' with ', coalesce(nullif(array_to_string(service_agents, ', '), ''), 'no other client')) as summary,
    {'service': service,
     'service_evidence': service_evidence,
     'access_key_id': access_key_id,
     'agent_family': agent_family,
     'service_networks': service_networks,
     'service_agents': service_agents,
     'address': address_label,
     'outside_aws': coalesce(in_aws = false, false),
     'calls': count(*),
     'failed_calls': count(*) filter (where error_code is not null),
     'actions': list(distinct concat(split_part(event_source, '.', 1), ':', event_name) order by concat(split_part(event_source, '.', 1), ':', event_name))[:40]} as details
from identity_calls
where service is not null
  and key_type = 'session'
  and invoked_by is null
  and vpc_endpoint_id is null
  and network not like 'aws:%'
  and network <> 'private'
  and agent_family not in ('lambda-runtime', 'ecs-runtime', 'aws-internal')
  and agent_family not like 'aws-runtime:%'
  and (in_aws = false
       or (not list_contains(coalesce(service_networks, []::varchar[]), network)
           and not list_contains(coalesce(service_agents, []::varchar[]), agent_family)))
group by access_key_id, session_arn, principal, service, service_evidence, service_networks, service_agents,
         source_ip, agent_family, in_aws, address_label
