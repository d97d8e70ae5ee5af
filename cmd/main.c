/* aiplat: command-line toolkit for a multi-tenant AI platform on PostgreSQL. */
#include <signal.h>
#include "cli.h"

int main(int argc, char **argv)
{
	/* A closed pipe (aiplat ... | head) ends output quietly. */
	signal(SIGPIPE, SIG_DFL);
	return cli_main(argc, argv);
}
