"""Panther rules that claim what analyze_security_groups.py detects (see panther_agreement.py).

Left unmapped on purpose, because they claim something broader or different:
AWS.EC2.SecurityGroupModified (any security-group change), AWS.EC2.NetworkACLModified (any
network ACL change, allow-all entries included, where the toolkit splits allow-all entries from
other changes), AWS.EC2.ManualSecurityGroupChange (changes in listed production accounts not made
by Terraform), AWS.EC2.GatewayModified (any gateway change) and AWS.EC2.RouteTableModified (any
route change; the toolkit reports only default routes to an internet gateway).
"""

MAPPING = {
    "AWS.CloudTrail.NetworkACLPermissiveEntry": ("analyze_security_groups", "network_acl_opened_to_internet"),
    "AWS.EC2.Traffic.Mirroring": ("analyze_security_groups", "traffic_mirror_configured"),
    "AWS.RDS.InstanceMadePublic": ("analyze_security_groups", "db_instance_made_public"),
    "AWS.RDS.PublicRestore": ("analyze_security_groups", "db_instance_made_public"),
    "AWS.RDS.SecurityGroupIngressAuthorized": ("analyze_security_groups", "db_security_group_ingress_authorized"),
}

DIFFERENCES = {
    ("AWS.CloudTrail.NetworkACLPermissiveEntry", "Error Adding Overly Permissive Entry"):
        "reported as a failed attempt (marked failed), as every failed call is",
    ("AWS.RDS.InstanceMadePublic", "RDS Modification Failed"):
        "reported as a failed attempt (marked failed), as every failed call is",
    ("AWS.RDS.PublicRestore", "Not-Restore-RDS-Request"):
        "a database created publicly accessible (CreateDBInstance) is reported too; Panther's rule "
        "covers only restores from snapshots",
    ("AWS.RDS.SecurityGroupIngressAuthorized", "Authorization Failed"):
        "reported as a failed attempt (marked failed), as every failed call is",
}
