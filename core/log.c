/* SPDX-License-Identifier: Apache-2.0 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

static enum log_level cur_level = LOG_WARN;
static char vm_name[64];

static const char *const level_names[] = {
	[LOG_ERR] = "err", [LOG_WARN] = "warn",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_set_vm_name(const char *name)
{
	if (!name) {
		vm_name[0] = '\0';
		return;
	}
	snprintf(vm_name, sizeof(vm_name), "%s", name);
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

size_t log_escape(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	if (!cap)
		return 0;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		int w = c == '\\' ? 2 : (c < 0x20 || c > 0x7e) ? 4 : 1;

		if (n + (size_t)w >= cap)
			break;
		if (w == 1)
			out[n] = (char)c;
		else if (w == 2)
			memcpy(out + n, "\\\\", 2);
		else
			snprintf(out + n, 5, "\\x%02x", c);
		n += (size_t)w;
	}
	out[n] = '\0';
	return n;
}

/*
 * Escaped here, centrally, rather than by each caller: a message is
 * formatted first and then every byte outside printable ASCII (and the
 * backslash) is written as \xNN (\\), so no %s argument, path or not,
 * can end a line or send a terminal escape, and no caller can forget.
 */
void log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	char raw[1024], buf[1024];
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_escape(buf, sizeof(buf), raw);
	/* One write per line so lines from several threads do not interleave. */
	fprintf(stderr, "bulwark%s%s%s: %s: %s: %s\n",
		vm_name[0] ? "[" : "", vm_name, vm_name[0] ? "]" : "",
		level_names[level], func, buf);
}
