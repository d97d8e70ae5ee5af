/*
 * The command table: every command aiplat knows, in the order help lists
 * them. Dispatch, help, completions and man pages all read this.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

static const char *const format_choices[] = { "table", "json", "ndjson", "csv", "tsv",
                                              "prometheus", NULL };

const struct cli_option cli_global_options[] = {
	{ "db", 0, OPT_STRING, "URL",
	  "database to use (default: AIPLAT_DATABASE_URL, DATABASE_URL, the libpq environment, "
	  "then the running development cluster)", NULL, 0 },
	{ "format", 0, OPT_ENUM, "FORMAT",
	  "output format: table, json, ndjson, csv or tsv (default: table on a terminal, tsv otherwise; "
	  "AIPLAT_FORMAT); prometheus for usage report", format_choices, 0 },
	{ "as", 0, OPT_STRING, "EMAIL",
	  "act as this person, under row-level security (default: AIPLAT_AS)", NULL, 0 },
	{ "org", 0, OPT_STRING, "SLUG", "work in this organisation (default: AIPLAT_ORG)", NULL, 0 },
	{ "quiet", 'q', OPT_FLAG, NULL, "print only results and errors", NULL, 0 },
	{ "verbose", 'v', OPT_FLAG, NULL, "say more about what happens (twice: even more)", NULL,
	  OPTF_REPEAT },
	{ "no-color", 0, OPT_FLAG, NULL, "never colour output (so does NO_COLOR)", NULL, 0 },
	{ "help", 'h', OPT_FLAG, NULL, "show help for aiplat or the command", NULL, 0 },
	{ "version", 0, OPT_FLAG, NULL, "show the version and the libraries in use", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

const struct cli_group cli_groups[] = {
	{ "dev", "run the development database on this machine",
	  "Manage a private PostgreSQL cluster under ${XDG_DATA_HOME:-~/.local/share}/aiplat, "
	  "listening only on a unix socket that nobody else can reach. It is the database aiplat "
	  "uses when no other is configured. Run as root, the server runs as an unprivileged "
	  "account (AIPLAT_SERVER_USER, else postgres, else nobody)." },
	{ "migrate", "apply, roll back and inspect schema migrations",
	  "Migrations are files named NNNN_name.sql with -- migrate:up and -- migrate:down "
	  "sections. They are compiled into aiplat; --dir reads a directory instead. Each runs in "
	  "its own transaction (unless marked transaction:false) and is recorded with the sha256 "
	  "of its file in aiplat_meta.schema_migrations. Concurrent runs take turns on an advisory "
	  "lock." },
	{ "user", "manage people, superadmins and login-role mapping",
	  "People are users; a user may belong to several organisations with a role in each. "
	  "Superadmins operate the whole platform. A PostgreSQL login role can be mapped to a "
	  "person, so that connecting as that role is acting as that person under row-level "
	  "security, for any client." },
	{ "tenant", "manage organisations and their members",
	  "Organisations (tenants) have a type, a pricing plan, a monthly token quota and a time "
	  "zone. Superadmins create them and decide type, plan and quota; each organisation's "
	  "admins manage its members and their roles. People see only the organisations they "
	  "belong to." },
	{ "role", "manage roles and permissions",
	  "A role is a set of permissions (resource:action). The system roles admin, user and "
	  "viewer exist everywhere; organisations may add custom roles. Row-level security calls "
	  "the same permission check (aiplat.has_permission) for every client." },
	{ "model", "the system model catalogue, and what organisations and people may use",
	  "Superadmins script the catalogue of system AI models: provider, endpoint, API key (kept "
	  "encrypted or as an env:NAME reference, never shown), targeted organisation types, "
	  "required plan, per-user limits, trials. Organisation admins enable available models and "
	  "set per-user limits; users see what is enabled, with their usage." },
	{ "audit", "read the audit log",
	  "Every change is audited in the same transaction: actor, the person acted as, "
	  "organisation, action, resource, old and new values (never secrets)." },
	{ "quota", "decide, record and reserve token usage under the quotas",
	  "Every decision is one atomic step in the database: the organisation's row and the "
	  "person's counter are locked in a fixed order, checked and updated together, so no number "
	  "of concurrent callers can pass a limit. Periods (day, ISO week, month, in the "
	  "organisation's time zone) roll over by themselves; reservations expire by themselves." },
	{ "ai", "ask models, within the quotas",
	  "Every call is reserved before it is sent and settled to the provider's usage after, in "
	  "the same quota engine as `quota`, so no call can pass a limit." },
	{ "prompt", "versioned prompts, global and per organisation",
	  "Prompts are stored by key; every change is a new version. An organisation's own version "
	  "overrides the global one for it. `ai complete --task KEY` uses them." },
	{ "flag", "feature flags, global and per organisation",
	  "An organisation's own flag wins over the global one. aiplat reads ai (off: AI calls are "
	  "refused) and ai.daily_requests (the requests a person may make per day)." },
	{ "usage", "record, import, report and show token usage",
	  "Usage events are append-only and partitioned by month; counters and daily rollups change "
	  "in the same transaction as the events, and reports read the rollups." },
	{ "cluster", "beyond one machine: distribute the schema with Citus",
	  "Every table has a class, declared once in aiplat_internal.table_classes: reference (a "
	  "copy on every node: the catalogue, people, organisations, memberships, roles) or "
	  "distributed by organization_id (everything an organisation owns, co-located). check "
	  "holds the schema to the rules that make it distributable; distribute makes a Citus "
	  "coordinator's tables what their classes say." },
	{ NULL, NULL, NULL }
};

const struct cli_command *const cli_commands[] = {
	&cmd_dev_start, &cmd_dev_stop, &cmd_dev_status, &cmd_dev_url, &cmd_dev_psql,
	&cmd_migrate_up, &cmd_migrate_down, &cmd_migrate_status, &cmd_migrate_verify,
	&cmd_migrate_new, &cmd_migrate_redo,
	&cmd_seed,
	&cmd_user_create, &cmd_user_list, &cmd_user_show, &cmd_user_set_superadmin,
	&cmd_user_map_login,
	&cmd_tenant_create, &cmd_tenant_list, &cmd_tenant_show, &cmd_tenant_set_plan,
	&cmd_tenant_set_type, &cmd_tenant_set_quota, &cmd_tenant_set_timezone, &cmd_tenant_rename,
	&cmd_tenant_add_member, &cmd_tenant_remove_member, &cmd_tenant_set_role, &cmd_tenant_members,
	&cmd_role_list, &cmd_role_permissions, &cmd_role_create, &cmd_role_grant, &cmd_role_revoke,
	&cmd_model_create, &cmd_model_update, &cmd_model_delete, &cmd_model_list, &cmd_model_show,
	&cmd_model_activate, &cmd_model_deactivate, &cmd_model_feature, &cmd_model_unfeature,
	&cmd_model_available, &cmd_model_enable, &cmd_model_disable, &cmd_model_set_limit,
	&cmd_model_enabled,
	&cmd_audit_list,
	&cmd_quota_check, &cmd_quota_consume, &cmd_quota_reserve, &cmd_quota_settle,
	&cmd_quota_release, &cmd_quota_reset,
	&cmd_usage_record, &cmd_usage_import, &cmd_usage_report, &cmd_usage_show,
	&cmd_ai_complete,
	&cmd_prompt_set, &cmd_prompt_get, &cmd_prompt_list, &cmd_prompt_history,
	&cmd_flag_set, &cmd_flag_get, &cmd_flag_list,
	&cmd_cluster_check, &cmd_cluster_distribute,
	&cmd_completion, &cmd_help, &cmd_version, &cmd_gen_docs,
	NULL
};

const struct cli_group *cli_find_group(const char *name)
{
	for (const struct cli_group *g = cli_groups; g->name; g++)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

const struct cli_command *cli_find_command(const char *group, const char *name)
{
	for (int i = 0; cli_commands[i]; i++) {
		const struct cli_command *c = cli_commands[i];
		bool same_group = group ? (c->group && !strcmp(c->group, group)) : c->group == NULL;
		if (same_group && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

void cli_command_fullname(const struct cli_command *cmd, char *buf, size_t size)
{
	if (cmd->group)
		snprintf(buf, size, "%s %s", cmd->group, cmd->name);
	else
		snprintf(buf, size, "%s", cmd->name);
}
