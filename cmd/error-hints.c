/* What each library field is on the command line, and the next step for it. */
#include <stdio.h>
#include <string.h>
#include "error-hints.h"

struct field_hint {
	const char *field;   /* aiplat_error.field */
	int code;            /* the aiplat_err it applies to; 0: any */
	const char *hint;    /* %s: aiplat_error.value */
};

/* First match wins: specific codes before 0. */
static const struct field_hint field_hints[] = {
	{ "org", AIPLAT_EUSAGE, "give --org SLUG (or set AIPLAT_ORG)" },
	{ "model", AIPLAT_EUSAGE, "give --model" },
	{ "model", AIPLAT_ENOTFOUND, "`aiplat model list` shows the models you can see" },
	{ "task", 0, "aiplat model show %s lists its tasks; aiplat prompt list the prompts" },
	{ "var", 0, "give it as the prompt, or --var %s=VALUE" },
	{ "identity", AIPLAT_EPERM, "drop --as" },
	{ "identity", AIPLAT_EUSAGE, "drop --as" },
	{ "force", 0, "repeat with --force" },
	{ "lock_timeout", 0, "try again later, or raise --lock-timeout" },
	{ "skip_invalid", 0, "fix them, or load only the valid lines with --skip-invalid" },
	{ "create", 0, "pass --create" },
	{ "database", AIPLAT_ECONNECT, "check --db / AIPLAT_DATABASE_URL, or run `aiplat dev start`" },
	{ "database", 0, "pass --db URL, set AIPLAT_DATABASE_URL or DATABASE_URL, or start the "
	                 "development database with `aiplat dev start`" },
	{ "schema", 0, "run `aiplat migrate up` first" },
	{ "distribution_rules", 0, "aiplat cluster check lists them" },
	{ "ai_flag", 0, "an admin turns them on with: aiplat flag set ai on --org %s" },
	{ "role", 0, "roles: admin, user, viewer, or a custom role (`aiplat role list`)" },
	{ "permission", 0, "`aiplat role permissions` lists them" },
	{ "type", AIPLAT_EINVALID,
	  "known types: run `aiplat dev psql -c 'TABLE aiplat.organization_types'`" },
	{ "timeout", 0, "(--timeout)" },
	{ "secret_key", 0, "set AIPLAT_SECRET_KEY" },
	{ NULL, 0, NULL },
};

static const struct field_hint *find_hint(const char *field, int code)
{
	for (const struct field_hint *h = field_hints; h->field; h++)
		if (!strcmp(h->field, field) && (h->code == code || h->code == 0))
			return h;
	return NULL;
}

/* The option of the command (or a global one) that gives field: "per_user" is --per-user. */
static const struct cli_option *option_for(const struct cli_ctx *ctx, const char *field)
{
	char name[64];
	snprintf(name, sizeof(name), "%s", field);
	for (char *p = name; *p; p++)
		if (*p == '_')
			*p = '-';
	for (const struct cli_option *o = ctx->cmd ? ctx->cmd->options : NULL; o && o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	for (const struct cli_option *o = cli_global_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* "whose usage?": a person is given with --user where the command has it, else by acting. */
static const char *person_hint(const struct cli_ctx *ctx)
{
	if (option_for(ctx, "user"))
		return "give --user EMAIL, or act as the person with --as";
	return "give --as EMAIL (or connect as a mapped login role)";
}

void cli_explain_error(const struct cli_ctx *ctx, const aiplat_error *e, char *message,
                       size_t message_size, char *hint, size_t hint_size)
{
	const char *msg = e->message[0] ? e->message : "unknown failure";
	size_t flen = strlen(e->field);
	const struct cli_option *o = flen ? option_for(ctx, e->field) : NULL;
	/* "per_user must be ..." or "give org: ..." name the field first. */
	size_t lead = !strncmp(msg, "give ", 5) ? 5 : 0;
	if (o && !strncmp(msg + lead, e->field, flen) &&
	    (msg[lead + flen] == ' ' || msg[lead + flen] == ':'))
		snprintf(message, message_size, "%.*s--%s%s", (int)lead, msg, o->name, msg + lead + flen);
	else
		snprintf(message, message_size, "%s", msg);

	const char *ours = NULL;
	char buf[512];
	if (!strcmp(e->field, "user") && e->code == AIPLAT_EUSAGE) {
		ours = person_hint(ctx);
	} else if (flen) {
		const struct field_hint *h = find_hint(e->field, e->code);
		if (h) {
			snprintf(buf, sizeof(buf), h->hint, e->value);
			ours = buf;
		}
	}
	if (e->hint[0] && ours)
		snprintf(hint, hint_size, "%s%s%s", e->hint, ours[0] == '(' ? " " : ", or ", ours);
	else
		snprintf(hint, hint_size, "%s", e->hint[0] ? e->hint : ours ? ours : "");
}
