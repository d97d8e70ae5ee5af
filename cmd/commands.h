/* Every command entry, defined in its group's cmd-<group>.c. */
#ifndef AIPLAT_COMMANDS_H
#define AIPLAT_COMMANDS_H

#include "cli.h"

extern const struct cli_command cmd_dev_start, cmd_dev_stop, cmd_dev_status, cmd_dev_url,
	cmd_dev_psql;
extern const struct cli_command cmd_migrate_up, cmd_migrate_down, cmd_migrate_status,
	cmd_migrate_verify, cmd_migrate_new, cmd_migrate_redo;
extern const struct cli_command cmd_seed;
extern const struct cli_command cmd_user_create, cmd_user_list, cmd_user_show,
	cmd_user_set_superadmin, cmd_user_map_login;
extern const struct cli_command cmd_tenant_create, cmd_tenant_list, cmd_tenant_show,
	cmd_tenant_set_plan, cmd_tenant_set_type, cmd_tenant_set_quota, cmd_tenant_set_timezone,
	cmd_tenant_rename, cmd_tenant_add_member, cmd_tenant_remove_member, cmd_tenant_set_role,
	cmd_tenant_members;
extern const struct cli_command cmd_role_list, cmd_role_permissions, cmd_role_create,
	cmd_role_grant, cmd_role_revoke;
extern const struct cli_command cmd_model_create, cmd_model_update, cmd_model_delete,
	cmd_model_list, cmd_model_show, cmd_model_activate, cmd_model_deactivate, cmd_model_feature,
	cmd_model_unfeature, cmd_model_available, cmd_model_enable, cmd_model_disable,
	cmd_model_set_limit, cmd_model_enabled;
extern const struct cli_command cmd_audit_list;
extern const struct cli_command cmd_quota_check, cmd_quota_consume, cmd_quota_reserve,
	cmd_quota_settle, cmd_quota_release, cmd_quota_reset;
extern const struct cli_command cmd_usage_record, cmd_usage_import, cmd_usage_report,
	cmd_usage_show;
extern const struct cli_command cmd_ai_complete;
extern const struct cli_command cmd_prompt_set, cmd_prompt_get, cmd_prompt_list, cmd_prompt_history;
extern const struct cli_command cmd_flag_set, cmd_flag_get, cmd_flag_list;
extern const struct cli_command cmd_cluster_check, cmd_cluster_distribute;
extern const struct cli_command cmd_completion, cmd_help, cmd_version, cmd_gen_docs;

#endif
