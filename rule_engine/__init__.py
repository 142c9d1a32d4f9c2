"""Pure JSON Logic engine for Tallyhouse: exact decimals, JsonLogic semantics, static checks."""

from rule_engine.logic import (
    SUPPORTED_OPERATORS,
    LogicError,
    check_logic,
    evaluate,
    format_number,
    load_logic,
    logic_variables,
)

__all__ = [
    "SUPPORTED_OPERATORS",
    "LogicError",
    "check_logic",
    "evaluate",
    "format_number",
    "load_logic",
    "logic_variables",
]
