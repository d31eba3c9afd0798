"""Panther rules that claim what analyze_recon.py detects (see panther_agreement.py).

Not mapped, on purpose:
- AWS.CloudTrail.UnauthorizedAPICall and AWS.IAMUser.ReconAccessDenied count single AccessDenied
  events towards a threshold (20, 15); the toolkit reports the storm, never one denied call, so a
  single labelled record cannot fire it. test_recon.py runs their records with the storm threshold
  set to 1 instead.
- AWS.CloudTrail.Account.Discovery and AWS.Software.Discovery fire on every single discovery call
  (DescribeAccount, DescribeSecurityGroups, ...); the toolkit reports such calls only as part of a
  burst across services, because one Describe call is what every application does.
"""

MAPPING = {
    "AWS.CloudTrail.IMDSCredentialExfiltration": ("analyze_recon", "instance_credentials_used_outside_instance"),
    "AWS.STS.GetCallerIdentity.TruffleHog": ("analyze_recon", "api_called_from_offensive_tool"),
}

DIFFERENCES = {
    ("AWS.CloudTrail.IMDSCredentialExfiltration", "IMDS Credentials Used From Public IP"):
        "the same case holds the rule's 'SSM Messages Service Source' record: the SSM agent of the same "
        "instance calling from the same IP 45.33.32.156. The toolkit takes addresses seen in an instance's "
        "own SSM agent traffic as that instance's, so calls from them are not reported; on its own the "
        "record fires (test_recon.py)",
    ("AWS.STS.GetCallerIdentity.TruffleHog", "Different STS Event with TruffleHog Agent"):
        "the toolkit reports every call carrying the TruffleHog user agent, not only GetCallerIdentity: "
        "any call made by the tool is its fingerprint",
}
