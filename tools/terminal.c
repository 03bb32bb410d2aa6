/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prompts and terminal geometry. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "terminal.h"

int terminal_read_secret(const char *prompt, char **ret) {
        struct termios old, raw;
        char *buf;
        size_t n = 0;
        int r = 0;

        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &old) < 0)
                return -ENOTTY;
        buf = calloc(1, SECRET_MAX_BYTES + 1);
        if (!buf)
                return -ENOMEM;

        /*
         * Byte by byte with echo and signals off: Ctrl-C must not kill us
         * with the terminal left without echo, so we see it as a byte.
         */
        raw = old;
        raw.c_lflag &= ~(tcflag_t) (ICANON | ECHO | ISIG);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        /* Echo goes off before the prompt appears, so nothing typed in answer to it is ever shown. */
        if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0) {
                free(buf);
                return -errno;
        }
        fputs(prompt, stderr);
        fflush(stderr);

        for (;;) {
                unsigned char c;
                ssize_t k = read(STDIN_FILENO, &c, 1);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0 || c == 3 || (c == 4 && n == 0)) {
                        r = -ECANCELED;
                        break;
                }
                if (c == '\n' || c == '\r' || c == 4)
                        break;
                if (c == 0x7f || c == '\b') {
                        /* Drop one whole UTF-8 character. */
                        while (n > 0 && ((unsigned char) buf[n - 1] & 0xC0) == 0x80)
                                n--;
                        if (n > 0)
                                n--;
                        continue;
                }
                if (c == 0x15) {        /* Ctrl-U: start over */
                        n = 0;
                        continue;
                }
                if (n >= SECRET_MAX_BYTES) {
                        r = -E2BIG;
                        break;
                }
                buf[n++] = (char) c;
        }

        (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &old);
        fputc('\n', stderr);
        buf[n] = 0;
        if (r < 0) {
                explicit_bzero(buf, SECRET_MAX_BYTES);
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}

int read_secret_file(const char *path, char **ret) {
        char *buf;
        size_t n = 0;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        buf = calloc(1, SECRET_MAX_BYTES + 2);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        for (;;) {
                ssize_t k = read(fd, buf + n, SECRET_MAX_BYTES + 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > SECRET_MAX_BYTES) {
                        r = -E2BIG;
                        break;
                }
        }
        close(fd);
        /* A file written by echo or an editor ends in a newline that is not part of the secret. */
        if (r == 0 && n > 0 && buf[n - 1] == '\n')
                n--;
        if (r == 0 && n > 0 && buf[n - 1] == '\r')
                n--;
        buf[n] = 0;
        if (r == 0 && memchr(buf, 0, n))
                r = -EBADMSG;
        if (r < 0) {
                explicit_bzero(buf, SECRET_MAX_BYTES + 2);
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}

bool terminal_ask_yes_no(const char *question) {
        char line[64];

        fputs(question, stdout);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\r\n")] = 0;
        return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

unsigned terminal_columns(void) {
        struct winsize ws = {};
        const char *e;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        e = getenv("COLUMNS");
        if (e) {
                long c = strtol(e, NULL, 10);
                if (c > 0 && c < 10000)
                        return (unsigned) c;
        }
        return 80;
}
