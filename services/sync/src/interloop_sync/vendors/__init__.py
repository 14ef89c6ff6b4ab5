"""Vendor API adapters (httpx.AsyncClient). They raise typed errors; the shared retry policy decides.

greenhouse.GreenhouseHarvest, lever.LeverClient (ATS); workday.WorkdayStaffing, bamboohr.BambooHR (HRIS).
"""

from .errors import AuthFailed, Permanent, RateLimited, Transient, ValidationFailed, VendorError

__all__ = ["AuthFailed", "Permanent", "RateLimited", "Transient", "ValidationFailed", "VendorError"]
