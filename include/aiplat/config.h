/*
 * The library's process-wide settings, set once by the program that embeds
 * it (aiplat's front end maps its environment here: cmd/environment.c).
 * The library reads no environment variable itself, with one documented
 * exception: connection resolution (aiplat/db.h, aiplat_conninfo_resolve)
 * follows libpq's and aiplat's connection variables.
 */
#ifndef AIPLAT_CONFIG_H
#define AIPLAT_CONFIG_H

#include <stddef.h>

typedef struct aiplat_config {
	/* Encrypts literal API keys when stored and decrypts them for calls
	 * (pgcrypto); NULL: literal keys cannot be stored or used. */
	const char *secret_key;
	/* Override every endpoint of a provider kind (local servers, tests); NULL: none. */
	const char *openai_base_url;
	const char *anthropic_base_url;
	/* Resolves a model's env:NAME key reference to the key; NULL: none resolve. */
	const char *(*resolve_key_ref)(const char *name, void *arg);
	void *resolve_arg;
} aiplat_config;

#define AIPLAT_CONFIG_INIT { NULL, NULL, NULL, NULL, NULL }

/* Copies *cfg (the strings are not copied: they must outlive the library's use). */
void aiplat_config_set(const aiplat_config *cfg);
/* The settings in force (all NULL until set). */
const aiplat_config *aiplat_config_get(void);

#endif
