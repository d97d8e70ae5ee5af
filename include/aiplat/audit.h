/* The audit log: every change, who made it and as whom. */
#ifndef AIPLAT_AUDIT_H
#define AIPLAT_AUDIT_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

typedef struct aiplat_audit_filter {
	const char *org;        /* slug */
	const char *actor;      /* email of the actor or of whom they acted as */
	const char *action;     /* exact, or a prefix ending in "." or "*" */
	const char *resource;   /* resource type, or type:id */
	const char *since;      /* timestamp, or an age such as 7d, 12h */
	const char *until;
	long limit;             /* newest first; 0: 100 */
} aiplat_audit_filter;

int aiplat_audit_list(aiplat_db *db, const aiplat_audit_filter *f, aiplat_table **out);

#endif
