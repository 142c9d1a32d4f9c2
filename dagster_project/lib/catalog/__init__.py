"""The pricing catalog: typed models, loading with full validation, and the warehouse loader."""

from pathlib import Path

from .currencies import MINOR_UNITS, minor_units
from .load import (
    PRICING_FILE,
    TABLES,
    catalog_files,
    catalog_version,
    check_catalog,
    load_catalog,
    load_yaml_exact,
    read_catalog,
)
from .models import (
    Account,
    AddAction,
    Aggregation,
    Attribute,
    BillingCycle,
    BillingInterval,
    Catalog,
    CreditGrant,
    Customer,
    EventSchema,
    FixedFeeRateCard,
    MinimumCommitmentRateCard,
    PlanAssignment,
    PricePlan,
    PricingModel,
    PricingRule,
    RateCard,
    Slab,
    UpdateAction,
    UsageMeter,
    UsageRateCard,
    WalletTransaction,
    WalletTransactionType,
)
from .problems import CatalogError, CatalogProblem
from .tables import (
    CATALOG_TABLES,
    catalog_is_loaded,
    catalog_rows,
    logic_json,
    write_catalog_tables,
)
from .validate import RULE_VARIABLES, validate_catalog

# The bundled demo catalog (the default when no catalog folder is given).
DEMO_CATALOG = Path(__file__).resolve().parents[2] / "demo_catalog"

__all__ = [
    "CATALOG_TABLES",
    "DEMO_CATALOG",
    "MINOR_UNITS",
    "PRICING_FILE",
    "RULE_VARIABLES",
    "TABLES",
    "Account",
    "AddAction",
    "Aggregation",
    "Attribute",
    "BillingCycle",
    "BillingInterval",
    "Catalog",
    "CatalogError",
    "CatalogProblem",
    "CreditGrant",
    "Customer",
    "EventSchema",
    "FixedFeeRateCard",
    "MinimumCommitmentRateCard",
    "PlanAssignment",
    "PricePlan",
    "PricingModel",
    "PricingRule",
    "RateCard",
    "Slab",
    "UpdateAction",
    "UsageMeter",
    "UsageRateCard",
    "WalletTransaction",
    "WalletTransactionType",
    "catalog_is_loaded",
    "catalog_files",
    "catalog_rows",
    "catalog_version",
    "check_catalog",
    "load_catalog",
    "load_yaml_exact",
    "logic_json",
    "minor_units",
    "read_catalog",
    "validate_catalog",
    "write_catalog_tables",
]
