/*
id: bucket_replicated_to_other_account
title: Bucket replication set up to another account
severity: high
mitre: [T1537, T1020]
status: stable
description: >
  Detects PutBucketReplication calls whose destination bucket belongs to another account
  (Destination.Account, or the destination's owner as recorded in other S3 events). Once set, S3
  itself copies every new object to the destination: a quiet, continuous exfiltration channel. A
  destination whose owner is neither given nor seen in the logs is reported at low severity.
false_positives: >
  Replication to your own backup or disaster-recovery account.
triage:
  - Check whether the destination account belongs to your organisation.
  - 'Read the configuration: `aws s3api get-bucket-replication --bucket NAME`; check the IAM role it uses and whether it was just created.'
  - Delete the replication if unexpected (`aws s3api delete-bucket-replication --bucket NAME`).
references:
  - https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html
  - https://docs.aws.amazon.com/AmazonS3/latest/API/API_Destination.html
  - https://attack.mitre.org/techniques/T1537/
  - https://attack.mitre.org/techniques/T1020/
python: find_external_replication
*/
-- Candidates: every PutBucketReplication; find_external_replication reads each configuration and
-- looks up destination owners in the other S3 events of the case.
select
    event_id,
    error_code,
    request_parameters->>'$.bucketName' as bucket,
    coalesce(recipient_account_id, user_account_id) as owner_account,
    request_parameters->'$.ReplicationConfiguration' as configuration,
    user_agent
from scoped_events
where event_source = 's3.amazonaws.com'
  and event_name = 'PutBucketReplication'
