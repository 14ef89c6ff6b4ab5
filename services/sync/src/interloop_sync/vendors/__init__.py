"""Adapters to outside systems, one module per vendor, found through ``registry``: greenhouse and lever (ATS,
behind ``ats.AtsAdapter``), workday and bamboohr (HRIS, behind ``hris.HrisAdapter``). Each holds what the
vendor does differently: webhook verification and normalisation (pure), and its API client. They raise the
typed outcomes of ``interloop_common.vendor_http``; the shared retry policy decides."""
