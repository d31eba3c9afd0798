/*
id: traffic_mirror_configured
title: VPC traffic mirroring configured
severity: medium
mitre: [T1040, T1020]
status: stable
description: >
  Detects traffic mirroring filters, rules, targets and sessions being created, changed or
  deleted. A mirror session copies every packet of a network interface to a target the caller
  chooses, which captures credentials and data in transit. Creating or changing a session is
  high; deleting mirroring parts is low.
false_positives: >
  Network monitoring or intrusion-detection appliances set up by the security team.
triage:
  - Identify the mirrored interface and the target (details.request) and who owns the target.
  - Confirm with the network or security team; if unknown, delete the session and treat data on the mirrored host as exposed.
references:
  - https://attack.mitre.org/techniques/T1040/
  - https://attack.mitre.org/techniques/T1020/
  - https://docs.aws.amazon.com/vpc/latest/mirroring/traffic-mirroring-how-it-works.html
  - https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTrafficMirrorSession.html
*/
select
    coalesce(response_elements->>'$.CreateTrafficMirrorSessionResponse.trafficMirrorSession.trafficMirrorSessionId',
             response_elements->>'$.CreateTrafficMirrorTargetResponse.trafficMirrorTarget.trafficMirrorTargetId',
             response_elements->>'$.CreateTrafficMirrorFilterResponse.trafficMirrorFilter.trafficMirrorFilterId',
             json_extract_string(request_parameters, '$.*.TrafficMirrorSessionId')[1],
             json_extract_string(request_parameters, '$.*.TrafficMirrorTargetId')[1],
             json_extract_string(request_parameters, '$.*.TrafficMirrorFilterId')[1],
             json_extract_string(request_parameters, '$.*.NetworkInterfaceId')[1]) as resource,
    event_id,
    case when event_name in ('CreateTrafficMirrorSession', 'ModifyTrafficMirrorSession') then 'high'
         when event_name like 'Delete%' then 'low' end as severity,
    concat(event_name,
           coalesce(' on interface ' || json_extract_string(request_parameters, '$.*.NetworkInterfaceId')[1], ''),
           coalesce(' to target ' || json_extract_string(request_parameters, '$.*.TrafficMirrorTargetId')[1], '')) as summary,
    {'request': request_parameters, 'user_agent': user_agent, 'error_message': error_message} as details
from scoped_events
where event_source = 'ec2.amazonaws.com'
  and event_name in ('CreateTrafficMirrorFilter', 'CreateTrafficMirrorFilterRule', 'CreateTrafficMirrorSession',
                     'CreateTrafficMirrorTarget', 'DeleteTrafficMirrorFilter', 'DeleteTrafficMirrorFilterRule',
                     'DeleteTrafficMirrorSession', 'DeleteTrafficMirrorTarget',
                     'ModifyTrafficMirrorFilterNetworkServices', 'ModifyTrafficMirrorFilterRule',
                     'ModifyTrafficMirrorSession')
