"""The `payments` resource: which provider collects, and the drill's faults."""

import dagster as dg
import duckdb

from dagster_project.lib.payments import (
    FaultInjector,
    PaymentProvider,
    RetryPolicy,
    SandboxProvider,
    StripeProvider,
    parse_faults,
    parse_payment_methods,
)
from dagster_project.settings import Settings

PROVIDERS = ("sandbox", "stripe")


class PaymentProviderResource(dg.ConfigurableResource):
    """`sandbox` (default: in-process, its state in the warehouse) or `stripe` (the official
    SDK, at `stripe_api_base` when set). Unset fields come from the TALLYHOUSE_* settings."""

    provider: str | None = None
    stripe_api_base: str | None = None
    stripe_api_key: str | None = None
    faults: str | None = None
    payment_methods: str | None = None
    max_tries: int = 3
    retry_backoff_seconds: float = 0.5

    def _settings(self) -> Settings:
        return Settings.from_env()

    def provider_name(self) -> str:
        name = self.provider or self._settings().payment_provider
        if name not in PROVIDERS:
            raise ValueError(
                f"TALLYHOUSE_PAYMENT_PROVIDER: unknown payment provider {name!r} "
                f"(one of {', '.join(PROVIDERS)})"
            )
        return name

    def open(self, con: duckdb.DuckDBPyConnection) -> PaymentProvider:
        settings = self._settings()
        if self.provider_name() == "sandbox":
            return SandboxProvider(con)
        return StripeProvider(
            api_key=self.stripe_api_key or settings.stripe_api_key or "",
            api_base=self.stripe_api_base or settings.stripe_api_base,
        )

    def fault_injector(self) -> FaultInjector:
        text = self.faults if self.faults is not None else self._settings().payment_faults
        return FaultInjector(parse_faults(text))

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_tries=self.max_tries, backoff_seconds=self.retry_backoff_seconds)

    def payment_method_map(self) -> dict[str, str]:
        text = (
            self.payment_methods
            if self.payment_methods is not None
            else self._settings().payment_methods
        )
        return parse_payment_methods(text)
