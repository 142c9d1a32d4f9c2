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
from rule_engine.sql import SqlCompileError, compile_filter, compile_value

__all__ = [
    "SUPPORTED_OPERATORS",
    "LogicError",
    "SqlCompileError",
    "check_logic",
    "compile_filter",
    "compile_value",
    "evaluate",
    "format_number",
    "load_logic",
    "logic_variables",
]
