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
from .notifications import Notification, UserProfile
from .people import DocumentType, Employer, EmployerStaff, InsuredPerson

__all__ = [
    "AccountEvent",
    "AccountSession",
    "AccessRecord",
    "CaseEvent",
    "ContributionYear",
    "DocumentKind",
    "DocumentType",
    "Employer",
    "EmployerStaff",
    "FilingBatch",
    "InsuredPerson",
    "Material",
    "MaterialKind",
    "Notification",
    "OfficialDocument",
    "State",
    "TransferApplication",
    "UserProfile",
]
