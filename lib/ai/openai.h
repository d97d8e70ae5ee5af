/* Details of the OpenAI-compatible adapter that tests check on their own. */
#ifndef AIPLAT_AI_OPENAI_H
#define AIPLAT_AI_OPENAI_H

#include <stdbool.h>

/*
 * Whether the output limit is sent as max_completion_tokens (OpenAI's own
 * API, and OpenAI's reasoning models anywhere) rather than max_tokens
 * (Mistral, local servers and the rest of the compatible world).
 */
bool ai_openai_uses_max_completion_tokens(const char *endpoint, const char *model);

#endif
