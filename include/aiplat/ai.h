/*
 * Quota-enforced AI calls (`aiplat ai complete`), versioned prompts and
 * feature flags (seed 003 1.2).
 *
 * Every call goes through the quota engine: the prompt estimate plus the
 * output cap is reserved before the call (a denial never reaches the
 * provider), settled to the provider's reported usage after it (a usage
 * event with latency, cost and request id), or released when the call
 * fails. A stream cut short settles at the reserved estimate.
 */
#ifndef AIPLAT_AI_H
#define AIPLAT_AI_H

#include <stdbool.h>
#include <stddef.h>
#include "aiplat/db.h"
#include "aiplat/provider.h"
#include "aiplat/table.h"

typedef struct aiplat_complete_opts {
	const char *model;             /* name or id */
	const char *user;              /* whose call (platform mode); NULL: the person acting */
	const char *task;              /* a stored prompt key, else a task of the model */
	const char *input;             /* the prompt (or the task's input); may be NULL with a task */
	const char *const *vars;       /* "name=value" for the task's {{name}} placeholders */
	size_t nvars;
	bool stream;
	bool json_mode;
	long max_tokens;               /* 0: the model's */
	double timeout_s;              /* per attempt; 0: 120 s */
	int max_retries;               /* -1: 3 */
	const char *fallback;          /* a model tried once when the first is unavailable */
	int (*on_text)(const char *text, size_t len, void *ctx);   /* streamed pieces */
	void *ctx;
} aiplat_complete_opts;

#define AIPLAT_COMPLETE_OPTS_INIT { NULL, NULL, NULL, NULL, NULL, 0, false, false, 0, 0, -1, NULL, NULL, NULL }

typedef struct aiplat_complete_result {
	char *text;                    /* malloc'd */
	size_t text_len;
	char model[256];               /* the model that answered (the fallback, if it did) */
	char provider[16];
	long long input_tokens;        /* as settled */
	long long output_tokens;
	bool estimated;                /* settled at the reservation: the provider gave no usage */
	bool cut;                      /* the stream ended early, or failed after it began */
	bool fell_back;
	bool over_limit;               /* the platform recorded the provider's numbers above a limit */
	bool capped;                   /* the person's settle was refused above the hold: settled
	                                * at the reservation instead */
	char request_id[128];
	char event_id[40];
	double cost_usd;
	double latency_ms;
	int attempts;
	aiplat_table *decision;        /* a denial's decision (reason, usage, limit, resets_at) */
} aiplat_complete_result;

/*
 * 0 on success. AIPLAT_ENEGATIVE when the quota engine denied the call
 * (result->decision says why; nothing was sent), AIPLAT_EPERM when the ai
 * flag is off for the organisation, AIPLAT_EPROVIDER when the provider
 * failed before it began (the reservation was released), or a stream ended
 * early or failed after it began (settled at the reported input, else the
 * estimate, plus the output cap; result->text holds what arrived).
 */
int aiplat_ai_complete(aiplat_db *db, const aiplat_complete_opts *opts, aiplat_complete_result *result);
void aiplat_complete_result_dispose(aiplat_complete_result *r);

/*
 * Fills a task template: {{name}} from vars, then any other placeholder
 * (and {{input}}) from input; without placeholders the input follows the
 * template after a blank line. AIPLAT_EUSAGE when a placeholder has no
 * value. *out is malloc'd.
 */
int aiplat_render_template(const char *tmpl, const char *input, const char *const *vars, size_t nvars,
                           char **out);

#endif
