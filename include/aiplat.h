/* libaiplat: the umbrella header. */
#ifndef AIPLAT_H
#define AIPLAT_H

#include "aiplat/error.h"
#include "aiplat/config.h"
#include "aiplat/buf.h"
#include "aiplat/table.h"
#include "aiplat/log.h"
#include "aiplat/conninfo.h"
#include "aiplat/db.h"
#include "aiplat/migrate.h"
#include "aiplat/devcluster.h"
#include "aiplat/seed.h"
#include "aiplat/rules.h"
#include "aiplat/model.h"
#include "aiplat/org_model.h"
#include "aiplat/tenant.h"
#include "aiplat/user.h"
#include "aiplat/role.h"
#include "aiplat/audit.h"
#include "aiplat/quota.h"
#include "aiplat/usage.h"
#include "aiplat/sse.h"
#include "aiplat/provider.h"
#include "aiplat/ai.h"
#include "aiplat/prompt.h"
#include "aiplat/flag.h"
#include "aiplat/cluster.h"

/* "0.1.0" */
const char *aiplat_version(void);

#endif
