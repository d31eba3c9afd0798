/*
id: data_read_by_escalated_session
title: Data read by a session born from a privilege escalation
severity: critical
mitre: [T1530, T1555.006]
status: experimental
description: >
  Detects S3 object reads and listings, Secrets Manager secret reads and SSM parameter reads
  made with a session descended (through identity_lineage, role chaining included) from a role
  assumption that followed a storm of denied calls (role_assumed_after_denied_storm). That is
  the end of the chain: a weak key probed its permissions, found a role it could assume, and
  used the role to read data. One finding per session.
false_positives: >
  The same as role_assumed_after_denied_storm: an application that fails noisily before
  assuming its usual role and then reads its usual data.
triage:
  - List what was read (details.read) and judge its sensitivity; the object keys and secret names are in event_ids.
  - Revoke the sessions of the role and rotate the key at the start of the chain (the escalation finding names it).
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html
  - https://attack.mitre.org/techniques/T1530/
*/
with escalated as (
    select distinct l.access_key_id, x.event_id as escalation_event, x.role_arn
    from identity_lineage as l
    join identity_escalations as x
      on list_contains(l.chain_keys, x.minted_key)
)
select
    arg_min(c.event_id, (c.event_time, c.event_id)) as event_id,
    list(c.event_id order by c.event_time, c.event_id) as event_ids,
    any_value(x.role_arn) as resource,
    concat('session ', c.access_key_id, ' of ', coalesce(any_value(c.session_arn), any_value(c.principal)),
           ', born from a role assumption after a denied-call storm, read data: ', count(*), ' call(s): ',
           array_to_string(list(distinct concat(c.event_name, ' ',
                coalesce(c.request_parameters->>'$.bucketName', c.request_parameters->>'$.secretId',
                         c.request_parameters->>'$.name', ''),
                case when c.request_parameters->>'$.key' is not null then concat('/', c.request_parameters->>'$.key') else '' end)
                order by concat(c.event_name, ' ',
                coalesce(c.request_parameters->>'$.bucketName', c.request_parameters->>'$.secretId',
                         c.request_parameters->>'$.name', ''),
                case when c.request_parameters->>'$.key' is not null then concat('/', c.request_parameters->>'$.key') else '' end))[:5], ', ')) as summary,
    {'access_key_id': c.access_key_id, 'escalation_event': any_value(x.escalation_event), 'calls': count(*),
     'read': list(distinct c.event_name order by c.event_name)} as details
from identity_calls as c
join escalated as x
  on x.access_key_id = c.access_key_id
where c.error_code is null
  and c.event_name in ('GetObject', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'GetSecretValue',
                       'BatchGetSecretValue', 'GetParameter', 'GetParameters', 'GetParametersByPath')
group by c.access_key_id
