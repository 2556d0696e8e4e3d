"""The agency desk: the pages agency staff work in (queue, approvals, export, statistics). Not a Django
app: it has no models; its templates are under templates/agencies/."""
