from .people import DocumentType, Employer, EmployerStaff, InsuredPerson

__all__ = ["DocumentType", "Employer", "EmployerStaff", "InsuredPerson"]
