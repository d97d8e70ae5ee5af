/* The fake AI provider (fake_provider.c) as the tests start and read it. */
#ifndef AIPLAT_FAKEPROV_H
#define AIPLAT_FAKEPROV_H

#include <sys/types.h>

typedef struct fake_provider {
	pid_t pid;
	char dir[256];
	char log_path[320];
	char base_url[64];      /* http://127.0.0.1:PORT/v1 */
} fake_provider;

/* Starts it on a free loopback port (fails the test if it does not come up). */
void fake_provider_start(fake_provider *fp);
void fake_provider_stop(fake_provider *fp);
/* Requests it received for a model string (every line of its log naming it). */
int fake_provider_requests(const fake_provider *fp, const char *model);
/* The whole request log (malloc'd): one JSON object per line. */
char *fake_provider_log(const fake_provider *fp);

#endif
