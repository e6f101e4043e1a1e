// SPDX-License-Identifier: Apache-2.0
/*
 * The operator's device options (--disk, --net), parsed once for the plan of
 * the VM.  Shared by the launcher (which validates and opens what they name)
 * and by tests; the devices in core/vmm/ only ever see the opened fds.
 */
#include "core/devopts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"

static bool disk_serial_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

static int disk_parse_flag(const char *f, size_t n, struct disk_opts *o,
			  const char *what)
{
	if (n == 8 && !strncmp(f, "readonly", 8)) {
		o->readonly = true;
		return 0;
	}
	if (n > 7 && !strncmp(f, "serial=", 7)) {
		if (n - 7 > VIRTIO_BLK_SERIAL_MAX) {
			log_err("%s: serial longer than %d characters", what,
				VIRTIO_BLK_SERIAL_MAX);
			return -EINVAL;
		}
		for (size_t i = 7; i < n; i++) {
			if (!disk_serial_char_ok(f[i])) {
				log_err("%s: serial may hold only A-Z a-z 0-9 . _ -", what);
				return -EINVAL;
			}
		}
		memcpy(o->serial, f + 7, n - 7);
		o->serial[n - 7] = '\0';
		return 0;
	}
	log_err("%s: unknown option '%.*s' (readonly, serial=ID)", what, (int)n, f);
	return -EINVAL;
}

int devopts_disk_parse(const char *arg, struct disk_opts *o, const char *what)
{
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);

	memset(o, 0, sizeof(*o));
	if (plen == 0 || plen >= sizeof(o->path)) {
		log_err("%s: needs PATH[,readonly][,serial=ID]", what);
		return -EINVAL;
	}
	memcpy(o->path, arg, plen);
	while (comma) {
		const char *f = comma + 1;
		int rc;

		comma = strchr(f, ',');
		rc = disk_parse_flag(f, comma ? (size_t)(comma - f) : strlen(f), o, what);
		if (rc)
			return rc;
	}
	return 0;
}

static int net_parse_mac(const char *s, size_t n, uint8_t mac[6])
{
	unsigned int b[6];
	char buf[18], end;

	if (n != 17)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &end) != 6 || (b[0] & 1))
		return -EINVAL;         /* malformed, or a multicast address */
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int devopts_net_parse(const char *arg, struct net_opts *o, const char *what)
{
	const char *comma = strchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	memset(o, 0, sizeof(*o));
	if (n <= 4 || strncmp(arg, "tap=", 4) || n - 4 >= sizeof(o->tap)) {
		log_err("%s: needs tap=NAME (at most %d characters)[,mac=MAC]", what,
			IFNAMSIZ - 1);
		return -EINVAL;
	}
	memcpy(o->tap, arg + 4, n - 4);
	if (comma && (strncmp(comma + 1, "mac=", 4) ||
		      net_parse_mac(comma + 5, strlen(comma + 5), o->mac))) {
		log_err("%s: after tap=NAME only mac=XX:XX:XX:XX:XX:XX (unicast)", what);
		return -EINVAL;
	}
	if (!comma) {
		o->mac[0] = 0x52;
		o->mac[1] = 0x54;
		if (getrandom(o->mac + 3, 3, 0) != 3)
			return -EIO;
	}
	return 0;
}
