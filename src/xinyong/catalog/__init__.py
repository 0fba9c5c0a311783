"""The public credit information catalogue (公共信用信息目录): items, fields, disclosure, never-collect.

The catalogue is data (``data/*.yaml``), validated when loaded; a province publishing a new edition changes
a file, not code. See docs/catalog.md.
"""

from xinyong.catalog.forbidden import (
    ForbiddenRule,
    RuleKind,
    RuleScope,
    default_rules,
    forbidden_match,
    load_forbidden_rules,
)
from xinyong.catalog.headers import header_base, normalise_header
from xinyong.catalog.loader import Catalog, load_catalog, parse_catalog, problems_from_validation
from xinyong.catalog.models import (
    CatalogFile,
    Category,
    Condition,
    DateFields,
    DisclosureLevel,
    FieldSpec,
    FieldType,
    Identifier,
    Item,
    SubjectFields,
    SubjectKind,
    UnknownCodeError,
)

__all__ = [
    "Catalog",
    "CatalogFile",
    "Category",
    "Condition",
    "DateFields",
    "DisclosureLevel",
    "FieldSpec",
    "FieldType",
    "ForbiddenRule",
    "Identifier",
    "Item",
    "RuleKind",
    "RuleScope",
    "SubjectFields",
    "SubjectKind",
    "UnknownCodeError",
    "default_rules",
    "forbidden_match",
    "header_base",
    "load_catalog",
    "load_forbidden_rules",
    "normalise_header",
    "parse_catalog",
    "problems_from_validation",
]
