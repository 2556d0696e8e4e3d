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
from .people import DocumentType, Employer, EmployerLinkRequest, EmployerStaff, InsuredPerson

__all__ = [
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
    "State",
    "TransferApplication",
    "UserProfile",
]
