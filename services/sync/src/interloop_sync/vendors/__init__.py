"""Adapters to outside systems, one module per vendor, found through ``registry``: greenhouse and lever (ATS,
behind ``ats.AtsAdapter``), workday and bamboohr (HRIS, behind ``hris.HrisAdapter``). Each holds what the
vendor does differently: webhook verification and normalisation (pure), and its API client. They raise the
typed outcomes of ``interloop_common.vendor_http`` (through ``_http``: the outbound guard, each adapter pinned
to its ``hosts``, failures as fixed reason codes); the shared retry policy decides."""
