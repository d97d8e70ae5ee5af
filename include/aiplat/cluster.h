/*
 * Beyond one machine (DESIGN.md section 10): the rules that make the schema
 * distributable with Citus, and the step that distributes it.
 *
 * Every table of schema aiplat has a class, declared once in
 * aiplat_internal.table_classes: reference (a copy on every node) or
 * distributed by organization_id, all co-located with aiplat.org_usage.
 */
#ifndef AIPLAT_CLUSTER_H
#define AIPLAT_CLUSTER_H

#include <stdbool.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

/*
 * Reads the catalogue and lists what breaks the rules, one row per breach
 * (rule, object, problem): a table without a class; a distributed table
 * without organization_id NOT NULL in its primary key and every unique
 * constraint; a foreign key from a reference table to a distributed one,
 * between distributed tables without the organisation in the key, or
 * setting a key that includes the organisation to NULL or its default; a
 * policy containing a subquery or calling an SQL function that reads
 * tables; a volatile or stable function in an upsert's DO UPDATE SET; a
 * trigger that creates or drops schemas; a trigger on a reference table
 * that writes elsewhere without aiplat_internal.is_redundant_copy. Needs
 * no Citus. *out has no rows when everything follows the rules.
 */
int aiplat_cluster_check(aiplat_db *db, aiplat_table **out);

/*
 * On a Citus coordinator, makes every table what its class says, in
 * dependency order (reference tables first, then org_usage, then the
 * tables that refer to others after them); lets aiplat_app log in (the
 * coordinator connects to the workers as the current role); runs the
 * admission step next to its organisation's shards; and marks the
 * functions for nested execution. Idempotent: what is done already is
 * reported as such. Each step is its own transaction, so a run that stops
 * half-way is finished by running it again. With dry_run nothing changes.
 *
 * *out: one row per step (object, class, action, done). Refuses with
 * AIPLAT_ENOTFOUND on a server without the citus extension, AIPLAT_EPERM
 * when acting for a person, AIPLAT_ENEGATIVE when aiplat_cluster_check
 * finds breaches (nothing is changed then).
 */
int aiplat_cluster_distribute(aiplat_db *db, bool dry_run, aiplat_table **out);

#endif
