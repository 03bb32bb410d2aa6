/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Logging to stderr with syslog-level prefixes ("<3>" …), which journald
 * turns into priorities. The *_errno variants return the (negative) error
 * they were given, so "return log_error_errno(r, …);" reads naturally.
 */

#include <syslog.h>

#include "macros.h"

void log_set_max_level(int level);
int log_get_max_level(void);

int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

/*
 * Between log_hold() and log_release() (nested: the outermost release
 * counts) lines are kept in order and written with as few writes as fit,
 * on release. For a burst of lines that all go out at once anyway.
 */
void log_hold(void);
void log_release(void);

#define log_full_errno(level, error, ...)                               \
        ({                                                              \
                int _l_ = (level), _e_ = (error);                       \
                (log_get_max_level() >= _l_)                            \
                        ? log_internal(_l_, _e_, __VA_ARGS__)           \
                        : -abs(_e_);                                    \
        })

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)
