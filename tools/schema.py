"""The full schema: importing this module registers every table on `Base.metadata`."""

from __future__ import annotations

from sqlalchemy import MetaData

from tools.approvals import models as approvals_models
from tools.audit import models as audit_models
from tools.conversations import models as conversations_models
from tools.db import Base
from tools.expenses import models as expenses_models
from tools.helpdesk import models as helpdesk_models
from tools.leave import models as leave_models
from tools.messaging import models as messaging_models
from tools.people import models as people_models

DOMAIN_MODULES = (people_models, leave_models, expenses_models, helpdesk_models, approvals_models, audit_models,
                  conversations_models, messaging_models)


def metadata() -> MetaData:
    """Return the metadata holding every table of the domain."""
    return Base.metadata
