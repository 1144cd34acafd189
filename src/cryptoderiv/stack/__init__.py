"""The local stack of ``make up``: services declared in :mod:`.services`, run by :mod:`.supervisor`.

The mail catcher of the stack is :mod:`cryptoderiv.stack.mailcatcher` (``cryptoderiv mail serve``).
"""

from cryptoderiv.stack.services import HealthProbe, ServiceSpec, build_services
from cryptoderiv.stack.supervisor import ServiceReport, ServiceState, Stack, StackError

__all__ = ["HealthProbe", "ServiceReport", "ServiceSpec", "ServiceState", "Stack", "StackError", "build_services"]
