"""REST resources, one folder each: controllers (HTTP only), schemas (DTOs), services (logic)."""
