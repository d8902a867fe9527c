"""The vendored WAHA OpenAPI document and the operations it declares."""

from waha_mcp.openapi.spec import Operation, Spec, load_spec

__all__ = ["Operation", "Spec", "load_spec"]
