/*
 * Usage: importing events in bulk, reports over the daily rollups, and a
 * person's usage in the current periods. Recording single events goes
 * through aiplat_quota_admit(db, "record", ...).
 */
#ifndef AIPLAT_USAGE_H
#define AIPLAT_USAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "aiplat/db.h"
#include "aiplat/table.h"

typedef enum aiplat_input_format {
	AIPLAT_INPUT_AUTO = 0,   /* by extension, else by the first character */
	AIPLAT_INPUT_JSONL,
	AIPLAT_INPUT_CSV,
} aiplat_input_format;

typedef struct aiplat_import_opts {
	const char *path;              /* a file, or "-" for stdin */
	aiplat_input_format format;
	bool skip_invalid;             /* load the valid lines, skip the rest */
	bool force;                    /* load events of non-members and of models not meant for the
	                                * organisation (audited, one row per organisation) */
	const char *default_org;       /* for lines without "org" (NULL: required) */
	size_t batch_rows;             /* 0: 100000 */
	/* Called after each batch: bytes read, total bytes (0 if unknown), lines. */
	void (*progress)(uint64_t done, uint64_t total, uint64_t lines, void *ctx);
	void *ctx;
} aiplat_import_opts;

typedef struct aiplat_import_result {
	uint64_t lines;                /* records read (not counting a CSV header) */
	uint64_t invalid;              /* records rejected */
	uint64_t forcible;             /* of those, refused only by the membership or model check
	                                * (the force option would load them) */
	uint64_t duplicates;           /* already recorded, or repeated in the file */
	uint64_t imported;             /* events written */
	double seconds;
	aiplat_table *errors;          /* line, error (the first 1000) */
} aiplat_import_result;

/*
 * Loads usage events from JSON lines or CSV (with a header), fields:
 * event_id, occurred_at, org, user, model, tokens_in, tokens_out,
 * latency_ms, request_id. Everything happens in one transaction: nothing is
 * written unless every line is valid (or skip_invalid), events already
 * recorded are skipped (an event is its organisation, time and id), and the
 * counters and daily rollups change with the events. On invalid input
 * AIPLAT_EINVALID, with the lines in result->errors.
 */
int aiplat_usage_import(aiplat_db *db, const aiplat_import_opts *opts, aiplat_import_result *result);
void aiplat_import_result_dispose(aiplat_import_result *r);

typedef struct aiplat_report_opts {
	const char *org;       /* slug; NULL: the connection's organisation, or all */
	const char *user;      /* email */
	const char *model;     /* name or id */
	const char *since;     /* date, timestamp or age (7d); inclusive */
	const char *until;     /* exclusive */
	const char *period;    /* day, week, month: the current one (instead of since/until) */
	const char *by;        /* org, model, user, day (default model) */
	long top;              /* the N largest by tokens (0: all, ordered by key) */
} aiplat_report_opts;

/* key columns, then tokens_in, tokens_out, tokens, requests, cost_usd. */
int aiplat_usage_report(aiplat_db *db, const aiplat_report_opts *opts, aiplat_table **out);

/* A person's usage per model in the current periods, with warnings (the
 * user view for someone else, for admins). bar: add a usage bar column. */
int aiplat_usage_show(aiplat_db *db, const char *user, bool bar, aiplat_table **out);

#endif
