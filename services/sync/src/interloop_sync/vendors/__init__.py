"""Adapters to outside systems, one module per vendor: greenhouse and lever (ATS, behind ``ats.AtsAdapter``,
found through ``registry``), workday and bamboohr (HRIS, behind ``hris.HrisAdapter``). They raise the typed
outcomes of ``interloop_common.vendor_http``; the shared retry policy decides."""
