from .accounts import AccountEvent, AccountSession
from .batches import FilingBatch
from .cases import (
    AccessRecord,
    CaseEvent,
    ContributionYear,
    DocumentKind,
    Material,
    MaterialKind,
    OfficialDocument,
    State,
    TransferApplication,
)
from .notifications import Notification, OutgoingEmail, UserProfile
from .people import DocumentType, Employer, EmployerLinkRequest, EmployerStaff, InsuredPerson

__all__ = [
    "AccountEvent",
    "AccountSession",
    "AccessRecord",
    "CaseEvent",
    "ContributionYear",
    "DocumentKind",
    "DocumentType",
    "Employer",
    "EmployerLinkRequest",
    "EmployerStaff",
    "FilingBatch",
    "InsuredPerson",
    "Material",
    "MaterialKind",
    "Notification",
    "OfficialDocument",
    "OutgoingEmail",
    "State",
    "TransferApplication",
    "UserProfile",
]
