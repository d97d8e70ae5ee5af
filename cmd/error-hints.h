/*
 * From the library's structured errors to this front end's words: the
 * library names the input an error is about (aiplat_error.field, in the
 * API's words) and never a flag or a command; this table says how each is
 * given on the command line and what to try next.
 */
#ifndef AIPLAT_CMD_ERROR_HINTS_H
#define AIPLAT_CMD_ERROR_HINTS_H

#include <stddef.h>
#include "cli.h"

/*
 * Writes the message to show for e (a leading field name becomes the flag
 * that gives it, when the command has that flag) and the hint (the
 * library's own, then this table's), both NUL-terminated; hint may be "".
 */
void cli_explain_error(const struct cli_ctx *ctx, const aiplat_error *e, char *message,
                       size_t message_size, char *hint, size_t hint_size);

#endif
