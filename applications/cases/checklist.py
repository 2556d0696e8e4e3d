"""The materials an application needs, tailored to the case (domain.md section 2 and the brief)."""

from applications.models import MaterialKind


def required_materials(case) -> list[str]:
    kinds = [MaterialKind.ID_CARD]
    if case.scheme == "pension":
        kinds.append(MaterialKind.PENSION_MANUAL)
    else:
        kinds.append(MaterialKind.MEDICAL_CARD)
    # Connected agencies exchange the record online; otherwise the old place's paper voucher is needed.
    if not case.transfer_out_agency.online_connected:
        kinds.append(MaterialKind.PAYMENT_VOUCHER)
    return kinds


def checklist(case, materials) -> list[tuple[str, str, bool]]:
    """(kind, label, uploaded) for every required kind."""
    uploaded = {m.kind for m in materials}
    return [(kind, MaterialKind(kind).label, kind in uploaded) for kind in required_materials(case)]
