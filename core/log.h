/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one logging module.  Every message carries the VM's name (when one is
 * set) and the calling function, so a line in a shared journal names its guest.
 */
#ifndef BULWARK_LOG_H
#define BULWARK_LOG_H

#include <stddef.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* The name is copied; NULL clears it. */
void log_set_vm_name(const char *name);
/* Parse "err", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);

/*
 * Copy IN to OUT (CAP bytes, always NUL-terminated) with every byte outside
 * printable ASCII written as \xNN and a backslash as \\; returns the length.
 * log_msg() applies it to every message, so a file name with a newline or a
 * terminal escape cannot forge or hide a log line.
 */
size_t log_escape(char *out, size_t cap, const char *in);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)   log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __func__, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
