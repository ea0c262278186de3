from privacy_admin.models.accounts import BackupCode, BackupCodeDevice, StaffTOTPDevice, User
from privacy_admin.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent
from privacy_admin.models.jobs import JobRun
from privacy_admin.models.org import (
    Foundation,
    FoundationMembership,
    Group,
    Membership,
    MembershipQuerySet,
    School,
)
from privacy_admin.models.security import AuthFailure, StaffSession

__all__ = [
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "AuthFailure",
    "BackupCode",
    "BackupCodeDevice",
    "Foundation",
    "FoundationMembership",
    "Group",
    "JobRun",
    "Membership",
    "MembershipQuerySet",
    "School",
    "StaffSession",
    "StaffTOTPDevice",
    "User",
]
