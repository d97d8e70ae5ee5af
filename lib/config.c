/* The settings the embedding program gives the library (see aiplat/config.h). */
#include "aiplat/config.h"

static aiplat_config current = AIPLAT_CONFIG_INIT;

void aiplat_config_set(const aiplat_config *cfg)
{
	current = *cfg;
}

const aiplat_config *aiplat_config_get(void)
{
	return &current;
}
