/*
id: instance_ssh_key_pushed
title: SSH key pushed to an instance (Instance Connect, serial console) or key pair imported
severity: medium
mitre: [T1098.004, T1021.004]
status: stable
description: >
  Detects SendSSHPublicKey (EC2 Instance Connect), SendSerialConsoleSSHPublicKey and
  EnableSerialConsoleAccess, and ImportKeyPair. Each lets the caller log in to instances with
  a key of their choosing: Instance Connect and the serial console install the key for 60
  seconds without touching the instance's own configuration, and the serial console works even
  when the network does not. Medium when it is the principal's first such call in the data,
  low when it did the same before; turning serial console access on for the account is high.
  One finding per principal, action and instance.
false_positives: >
  Engineers connecting through Instance Connect as part of their daily work; key pairs imported
  for new environments.
triage:
  - Check the instances and OS users (details) and whether the source IP is an expected administrator address.
  - Look at what happened on the instance afterwards (its role's calls, VPC flow logs, OS logs).
  - Turn serial console access off (aws ec2 disable-serial-console-access) if nobody needs it.
references:
  - https://docs.aws.amazon.com/ec2-instance-connect/latest/APIReference/API_SendSSHPublicKey.html
  - https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-serial-console.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.lateral-movement.ec2-instance-connect/
  - https://attack.mitre.org/techniques/T1098/004/
*/
with calls as (
    select
        *,
        coalesce(request_parameters->>'$.instanceId', request_parameters->>'$.keyName', 'account') as target
    from compute_events
    where (event_source = 'ec2-instance-connect.amazonaws.com'
           and event_name in ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey'))
       or (event_source = 'ec2.amazonaws.com' and event_name in ('EnableSerialConsoleAccess', 'ImportKeyPair'))
),
earlier as (
    select distinct c.principal, c.event_name
    from (select principal, event_source, event_name, min(event_time) as first_time from calls group by all) as c
    join compute_history as h
      on h.principal = c.principal and h.event_source = c.event_source and h.event_name = c.event_name and h.event_time < c.first_time
)
select
    list(c.event_id order by c.event_time, c.event_id)[1] as event_id,
    list(c.event_id order by c.event_time, c.event_id) as event_ids,
    c.target as resource,
    concat(case when count(*) filter (where c.error_code is null) = 0
                then concat('attempt, ', list(c.error_code order by c.event_time, c.event_id)[1], ': ') else '' end,
           case c.event_name
               when 'EnableSerialConsoleAccess' then 'EC2 serial console access turned on for the account'
               when 'ImportKeyPair' then concat('key pair ', c.target, ' imported')
               else concat(c.event_name, ' to instance ', c.target,
                           coalesce(' as OS user ' || (list(c.request_parameters->>'$.instanceOSUser'
                                                                order by c.event_time, c.event_id)[1]), ''))
           end,
           case when count(*) > 1 then concat(' (', count(*), ' calls)') else '' end) as summary,
    {'calls': count(*),
     'os_users': list(distinct c.request_parameters->>'$.instanceOSUser' order by c.request_parameters->>'$.instanceOSUser'),
     'public_key': list(coalesce(c.request_parameters->>'$.sSHPublicKey', c.request_parameters->>'$.publicKeyMaterial')
                        order by c.event_time, c.event_id)[1],
     'earlier_use': e.principal is not null} as details,
    case when c.event_name = 'EnableSerialConsoleAccess' then 'high'
         when e.principal is not null then 'low' end as severity
from calls as c
left join earlier as e on e.principal = c.principal and e.event_name = c.event_name
group by c.principal, c.event_name, c.target, e.principal
