/*
id: identity_provider_changed
title: SAML or OIDC identity provider created, changed or deleted
severity: high
mitre: [T1484.002]
status: stable
description: >
  Detects changes to the account's SAML and OpenID Connect identity providers. Whoever controls a
  trusted identity provider can sign in as any role that trusts it, with no IAM credentials at all
  (the cloud form of a forged-token attack). Creating or updating a provider is high; deleting
  one, or removing a client id, is medium. Changes made by IAM Identity Center through its
  service-linked role (AWSServiceRoleForSSO, which only that service can use) are left out: it
  manages its own providers in every account it is assigned to.
false_positives: >
  Setting up SSO or rotating its signing certificate; OIDC providers for CI systems (GitHub
  Actions, GitLab) added by platform teams.
triage:
  - Check the provider's metadata or URL in details against your identity provider.
  - List roles trusting this provider and any AssumeRoleWithSAML / AssumeRoleWithWebIdentity afterwards.
references:
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers.html
  - https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateSAMLProvider.html
  - https://attack.mitre.org/techniques/T1484/002/
*/
select
    event_id,
    coalesce(request_parameters->>'$.sAMLProviderArn', response_elements->>'$.sAMLProviderArn',
             request_parameters->>'$.openIDConnectProviderArn',
             response_elements->>'$.openIDConnectProviderArn',
             request_parameters->>'$.name', request_parameters->>'$.url', '(not recorded)') as resource,
    case when event_name like 'Delete%' or event_name like 'Remove%' then 'medium' end as severity,
    concat(coalesce(actor, '?'), case when error_code is null then ' ran ' else ' tried ' end, event_name,
           case when request_parameters->>'$.url' is not null
                then concat(' for ', request_parameters->>'$.url') else '' end) as summary,
    {'url': request_parameters->>'$.url', 'name': request_parameters->>'$.name',
     'client_ids': request_parameters->'$.clientIDList',
     'metadata_document_start': left(request_parameters->>'$.sAMLMetadataDocument', 200),
     'user_agent': user_agent} as details
from iam_events
where event_name in ('CreateSAMLProvider', 'UpdateSAMLProvider', 'DeleteSAMLProvider',
                     'CreateOpenIDConnectProvider', 'DeleteOpenIDConnectProvider',
                     'UpdateOpenIDConnectProviderThumbprint', 'AddClientIDToOpenIDConnectProvider',
                     'RemoveClientIDFromOpenIDConnectProvider')
  and coalesce(session_issuer_arn not like '%:role/aws-service-role/sso.amazonaws.com/%', true)
