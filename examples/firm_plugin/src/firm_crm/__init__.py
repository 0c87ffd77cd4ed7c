"""A firm's own crmcore models, offered to crmcore through the plugin in :mod:`firm_crm.plugin`."""

from firm_crm.loyalty import RFMLoyalty
from firm_crm.value import PoissonExponential

__all__ = ["PoissonExponential", "RFMLoyalty"]
