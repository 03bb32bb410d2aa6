/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Talking to the user on the terminal: secrets without echo, yes/no questions, the screen width. */

#include <stdbool.h>

/* Secrets longer than this are refused before they reach the service (which allows 255 bytes). */
#define SECRET_MAX_BYTES 4096

/*
 * Reads a secret from the terminal on stdin without echo. Ctrl-C or Ctrl-D
 * on an empty line cancels (-ECANCELED); no terminal is -ENOTTY.
 */
int terminal_read_secret(const char *prompt, char **ret);
/* Reads a secret from a file: its whole contents less one trailing newline. */
int read_secret_file(const char *path, char **ret);

/* Prints question, reads one line from stdin; "y"/"yes" (any case) is yes. End of input is no. */
bool terminal_ask_yes_no(const char *question);

/* Columns of the terminal on stdout; 80 when unknown. */
unsigned terminal_columns(void);
