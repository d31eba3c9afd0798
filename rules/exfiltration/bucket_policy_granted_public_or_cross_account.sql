/*
id: bucket_policy_granted_public_or_cross_account
title: Bucket policy allows everyone or another account
severity: high
mitre: [T1537, T1530]
status: stable
description: >
  Detects PutBucketPolicy calls whose policy has an Allow statement for everyone (Principal "*",
  {"AWS": "*"}, or NotPrincipal; critical) or for an account other than the bucket owner (high).
  Opening a bucket policy is the quickest way to hand a bucket's data to an outside account or to
  the Internet. Statements for everyone that carry conditions narrowing who can use them
  (organisation, VPC endpoint, source IP) are reported at low severity with the conditions listed.
false_positives: >
  Static websites and public datasets; buckets shared on purpose with partner or organisation
  accounts; log buckets that other accounts write to.
triage:
  - 'Read the policy in the finding''s details: which actions, which resources, which conditions.'
  - Check whether the accounts named are yours; check the bucket's Block Public Access settings (`aws s3api get-public-access-block --bucket NAME`).
  - If unexpected, restore the previous policy and look for GetObject calls from outside (bucket_objects_read_in_bulk needs S3 data events).
references:
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
  - https://attack.mitre.org/techniques/T1537/
  - https://attack.mitre.org/techniques/T1530/
python: find_bucket_policy_grants
*/
-- Candidates: every PutBucketPolicy with a policy; find_bucket_policy_grants reads the policy.
select
    event_id,
    request_parameters->>'$.bucketName' as bucket,
    coalesce(recipient_account_id, user_account_id) as owner_account,
    request_parameters->>'$.bucketPolicy' as policy,
    user_agent
from scoped_events
where event_source = 's3.amazonaws.com'
  and event_name = 'PutBucketPolicy'
  and (request_parameters->'$.bucketPolicy') is not null
