/*
id: roles_anywhere_trust_changed
title: IAM Roles Anywhere trust anchor or profile created or changed
severity: high
mitre: [T1098.003, T1556]
status: stable
description: >
  Detects CreateTrustAnchor, UpdateTrustAnchor, EnableTrustAnchor, CreateProfile,
  UpdateProfile and EnableProfile. A trust anchor tells AWS which certificate authority may
  issue certificates that are exchanged for role credentials; an attacker who registers their
  own CA (source type CERTIFICATE_BUNDLE) and a profile for a role gets credentials from
  anywhere, with no IAM user or access key to find. Trust anchors backed by an AWS Private CA
  of the account, and profile changes, are medium.
false_positives: >
  Platform teams onboarding on-premises servers or workloads in other clouds to Roles Anywhere.
triage:
  - Check the certificate in details (issuer, subject) against the organisation's certificate authorities.
  - List the profiles and roles the anchor can reach (aws rolesanywhere list-profiles); disable the anchor if unknown.
  - Look for CreateSession activity and calls by the roles named in the profiles.
references:
  - https://docs.aws.amazon.com/rolesanywhere/latest/userguide/trust-model.html
  - https://docs.aws.amazon.com/rolesanywhere/latest/APIReference/API_CreateTrustAnchor.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.rolesanywhere-create-trust-anchor/
  - https://attack.mitre.org/techniques/T1098/003/
*/
select
    event_id,
    coalesce(request_parameters->>'$.name', response_elements->>'$.trustAnchor.name', response_elements->>'$.profile.name',
             request_parameters->>'$.trustAnchorId', request_parameters->>'$.profileId', '(not recorded)') as resource,
    concat(attempt, event_name, ' ',
           coalesce(request_parameters->>'$.name', request_parameters->>'$.trustAnchorId', request_parameters->>'$.profileId', ''),
           case when request_parameters->>'$.source.sourceType' = 'CERTIFICATE_BUNDLE'
                then ': trusts an outside certificate authority (certificate bundle)' else '' end,
           case when (request_parameters->'$.roleArns') is not null
                then concat(': roles ', array_to_string(json_extract_string(request_parameters, '$.roleArns[*]'), ', ')) else '' end) as summary,
    {'source_type': request_parameters->>'$.source.sourceType',
     'roles': json_extract_string(request_parameters, '$.roleArns[*]'),
     'acm_pca': request_parameters->>'$.source.sourceData.acmPcaArn', 'user_agent': user_agent} as details,
    case when request_parameters->>'$.source.sourceType' = 'CERTIFICATE_BUNDLE' then null else 'medium' end as severity
from compute_events
where event_source = 'rolesanywhere.amazonaws.com'
  and event_name in ('CreateTrustAnchor', 'UpdateTrustAnchor', 'EnableTrustAnchor', 'CreateProfile', 'UpdateProfile',
                     'EnableProfile')
