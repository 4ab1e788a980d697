"""Who may call what at HQ: the one authorization table, method -> rule, read by the guard.

The web back office decides by the same table (its actions name the method they stand for).
A method that is not listed is refused; tests/hq_server/test_authz.py checks that every method
of every service HQ serves is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping

from runtime.guard import Anyone, AnyRole, AtLeast, Enrollee, OwnBranch, Rule
from runtime.principal import Role

BRANCH = "/einvoice.v1.BranchService/"
ADMIN = "/einvoice.v1.AdminService/"
VIEWER, OPERATOR, ADMIN_ROLE = AtLeast(Role.VIEWER), AtLeast(Role.OPERATOR), AtLeast(Role.ADMIN)

RULES: Mapping[str, Rule] = {
    # A store's agent, for its own BAN only.
    BRANCH + "RequestRange": OwnBranch("branch_ban"),
    BRANCH + "RequestRangeStream": OwnBranch("branch_ban"),  # each request as RequestRange
    BRANCH + "ReportUsage": OwnBranch("branch_ban"),
    BRANCH + "ReportUsageStream": OwnBranch("branch_ban"),  # each report as ReportUsage
    BRANCH + "WatchConfig": OwnBranch("branch_ban"),
    BRANCH + "RenewCertificate": OwnBranch(),
    BRANCH + "Enroll": Enrollee(),
    # Viewers read.
    ADMIN + "ListPools": VIEWER,
    ADMIN + "ListBranches": VIEWER,
    ADMIN + "GetUsage": VIEWER,
    ADMIN + "Reconcile": VIEWER,
    ADMIN + "ListAudit": VIEWER,
    ADMIN + "ListDeadlines": VIEWER,
    ADMIN + "ListAlerts": VIEWER,
    ADMIN + "GetHistory": VIEWER,
    ADMIN + "Forecast": VIEWER,  # a what-if only reads: applying it is SetQuota's
    ADMIN + "ListGrants": VIEWER,
    ADMIN + "ListReports": VIEWER,
    ADMIN + "ExportData": VIEWER,  # ERP export: a read (hq_server/export.py)
    ADMIN + "GetServerStatus": VIEWER,  # who leads, tokens, versions: what etcdctl shows
    # Operators change the pools, the branches and what goes to the MOF.
    ADMIN + "AddAssignment": OPERATOR,
    ADMIN + "AddBranch": OPERATOR,
    ADMIN + "DisableBranch": OPERATOR,
    ADMIN + "EnableBranch": OPERATOR,
    ADMIN + "SetQuota": OPERATOR,
    ADMIN + "SetRangeStatus": OPERATOR,
    ADMIN + "ClosePeriod": OPERATOR,
    ADMIN + "ImportE0501": OPERATOR,
    ADMIN + "BuildReports": OPERATOR,
    ADMIN + "ResendReport": OPERATOR,
    ADMIN + "AckAlert": OPERATOR,
    ADMIN + "SendTestMail": ADMIN_ROLE,
    # Admins also manage certificates and enrolment.
    ADMIN + "CreateEnrollToken": ADMIN_ROLE,
    ADMIN + "ListCertificates": ADMIN_ROLE,
    # ... and the back office's users.
    ADMIN + "AddUser": ADMIN_ROLE,
    ADMIN + "SetPassword": ADMIN_ROLE,
    ADMIN + "ListUsers": ADMIN_ROLE,
    # Plumbing.
    "/grpc.health.v1.Health/Check": Anyone(),
    "/grpc.health.v1.Health/Watch": Anyone(),
    "/grpc.health.v1.Health/List": Anyone(),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": AnyRole(),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": AnyRole(),
}
