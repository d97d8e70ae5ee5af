/*
 * consume_load: concurrent `consume` through libaiplat, for comparison with
 * pgbench running the same statement (bench/run consume).
 *
 *   consume_load --db URL [--clients 8] [--seconds 20] [--orgs 20]
 *                [--users 50] [--prefix bench] [--model NAME] [--tokens 100]
 *                [--mode consume] [--seed 1]
 *
 * Each client is a thread with its own connection (platform mode, as a
 * service using the library would run) calling aiplat_quota_admit in a
 * loop; every call picks organisation P-i and person uj@P-i.test uniformly
 * at random, like pgbench's random(). Clients connect first and start
 * together; the rate counts only the timed window, like pgbench's "tps
 * (without initial connection time)".
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aiplat.h"

typedef struct client {
	pthread_t thread;
	aiplat_db *db;
	uint64_t rng;
	uint64_t done, denied;
	double busy_s;         /* time inside aiplat_quota_admit */
	char error[1100];
} client;

static const char *url, *prefix = "bench", *model = "Legal Document Analyst", *mode = "consume";
static aiplat_quota_mode quota_mode = AIPLAT_QUOTA_CONSUME;
static unsigned long orgs = 20, users = 50, tokens = 100;
static double seconds = 20;
static pthread_barrier_t start_line;
static struct timespec deadline;
static atomic_int failed;
static char (*org_ids)[37];   /* org_ids[o - 1]: the id of PREFIX-o, looked up once */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* splitmix64, one stream per client. */
static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static bool before_deadline(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec < deadline.tv_sec || (t.tv_sec == deadline.tv_sec && t.tv_nsec < deadline.tv_nsec);
}

static void *run_client(void *arg)
{
	client *c = arg;
	pthread_barrier_wait(&start_line);
	char user[128];
	aiplat_quota_request req = AIPLAT_QUOTA_REQUEST_INIT;
	req.user = user;
	req.model = model;
	req.tokens = (long long)tokens;
	while (!atomic_load(&failed) && before_deadline()) {
		unsigned long o = 1 + next_random(&c->rng) % orgs, u = 1 + next_random(&c->rng) % users;
		req.org = org_ids[o - 1];
		snprintf(user, sizeof(user), "u%lu@%s-%lu.test", u, prefix, o);
		aiplat_quota_decision d;
		double t0 = now_s();
		if (aiplat_quota_admit(c->db, quota_mode, &req, &d) != 0) {
			snprintf(c->error, sizeof(c->error), "%s", aiplat_error_last()->message);
			atomic_store(&failed, 1);
			break;
		}
		c->busy_s += now_s() - t0;
		c->done++;
		c->denied += !d.allowed;
		aiplat_quota_decision_dispose(&d);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: consume_load --db URL [--clients N] [--seconds S] [--orgs N] [--users N]\n"
	                "                    [--prefix P] [--model NAME] [--tokens N] [--mode MODE]\n"
	                "                    [--seed S]\n");
	exit(2);
}

static unsigned long number(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0) {
		fprintf(stderr, "consume_load: %s wants a positive number, not \"%s\"\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long nclients = 8, seed = 1;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *a = argv[i], *v = argv[++i];
		if (!strcmp(a, "--db"))
			url = v;
		else if (!strcmp(a, "--clients"))
			nclients = number(a, v);
		else if (!strcmp(a, "--seconds"))
			seconds = (double)number(a, v);
		else if (!strcmp(a, "--orgs"))
			orgs = number(a, v);
		else if (!strcmp(a, "--users"))
			users = number(a, v);
		else if (!strcmp(a, "--prefix"))
			prefix = v;
		else if (!strcmp(a, "--model"))
			model = v;
		else if (!strcmp(a, "--tokens"))
			tokens = number(a, v);
		else if (!strcmp(a, "--mode"))
			mode = v;
		else if (!strcmp(a, "--seed"))
			seed = number(a, v);
		else
			usage();
	}
	static const aiplat_quota_mode modes[] = { AIPLAT_QUOTA_CHECK, AIPLAT_QUOTA_CONSUME,
	                                           AIPLAT_QUOTA_RESERVE, AIPLAT_QUOTA_RECORD };
	bool known = false;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, aiplat_quota_mode_name(modes[i]))) {
			quota_mode = modes[i];
			known = true;
		}
	if (!known)
		usage();
	if (!url || nclients > 1024)
		usage();
	client *clients = calloc(nclients, sizeof(client));
	if (!clients)
		return 70;
	/* Connections first, so the timed window holds only transactions. */
	for (unsigned long i = 0; i < nclients; i++) {
		if (aiplat_db_connect(&clients[i].db, url, "consume_load") != 0) {
			fprintf(stderr, "consume_load: %s\n", aiplat_error_last()->message);
			return 3;
		}
		clients[i].rng = seed * 1000003 + i;
	}
	/* A service names organisations by id (the admission step takes one). */
	org_ids = calloc(orgs, sizeof(*org_ids));
	if (!org_ids)
		return 70;
	for (unsigned long o = 1; o <= orgs; o++) {
		char slug[96], *id = NULL;
		snprintf(slug, sizeof(slug), "%s-%lu", prefix, o);
		const char *params[1] = { slug };
		if (aiplat_db_query_value(clients[0].db, &id, "SELECT id FROM aiplat.organizations WHERE slug = $1", 1,
		                          params) != 0) {
			fprintf(stderr, "consume_load: %s\n", aiplat_error_last()->message);
			return 3;
		}
		if (!id) {
			fprintf(stderr, "consume_load: no organization %s (run bench/setup.sql)\n", slug);
			return 3;
		}
		snprintf(org_ids[o - 1], sizeof(org_ids[o - 1]), "%s", id);
		free(id);
	}
	pthread_barrier_init(&start_line, NULL, (unsigned)nclients + 1);
	for (unsigned long i = 0; i < nclients; i++)
		if (pthread_create(&clients[i].thread, NULL, run_client, &clients[i]) != 0)
			return 70;
	/* The deadline is set before the threads are released, so they all see it. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)seconds;
	double t0 = now_s();
	pthread_barrier_wait(&start_line);
	uint64_t done = 0, denied = 0;
	double busy = 0;
	int status = 0;
	for (unsigned long i = 0; i < nclients; i++) {
		pthread_join(clients[i].thread, NULL);
		done += clients[i].done;
		denied += clients[i].denied;
		busy += clients[i].busy_s;
		if (clients[i].error[0]) {
			fprintf(stderr, "consume_load: client %lu: %s\n", i, clients[i].error);
			status = 1;
		}
		aiplat_db_close(clients[i].db);
	}
	double elapsed = now_s() - t0;
	printf("consume_load: mode=%s clients=%lu seconds=%.2f transactions=%llu denied=%llu "
	       "latency_avg_ms=%.3f tps=%.1f\n",
	       mode, nclients, elapsed, (unsigned long long)done, (unsigned long long)denied,
	       done ? busy * 1000 / (double)done : 0.0, (double)done / elapsed);
	pthread_barrier_destroy(&start_line);
	free(clients);
	free(org_ids);
	return status;
}
