#include "aiplat.h"

const char *aiplat_version(void)
{
	return AIPLAT_VERSION;
}
