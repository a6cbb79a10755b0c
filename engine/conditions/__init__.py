"""The condition language: one typed AST, two surface forms, Python and SQL backends, traces.

cond = compile_text("budget >= 1000 and region in ['east']", entity_scope(entity, tz))
cond.evaluate(record.data, now)          # Python closures
select(...).where(cond.sql(dialect, now, records.c.data))   # SQL
cond.trace(record.data, now).render("zh-CN")                # why / why not
"""

from engine.conditions.checker import Scope
from engine.conditions.compile_sql import NotCompilable
from engine.conditions.condition import Condition, compile_any, compile_text, entity_scope
from engine.conditions.errors import ConditionError
from engine.conditions.functions import FUNCTIONS, reads_clock
from engine.conditions.structured import StructuredError
from engine.conditions.trace import Trace
from engine.conditions.values import Env

__all__ = [
    "FUNCTIONS",
    "Condition",
    "ConditionError",
    "Env",
    "NotCompilable",
    "Scope",
    "StructuredError",
    "Trace",
    "compile_any",
    "compile_text",
    "entity_scope",
    "reads_clock",
]
