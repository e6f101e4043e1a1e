/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `bulwark snapshot-export` and `bulwark snapshot-import`: the only way a
 * sealed snapshot moves between hosts (core/launch/snapbox.h).  A snapshot
 * is sealed under this host's key, which never leaves it; export re-seals
 * it under a transport key the operator carries to the other host, import
 * re-seals it under that host's key.  Each authenticates the whole file
 * first, writes a new file (a new nonce base) and says so: a line on
 * stdout and an audit record (VIRT_CONTROL op=snapshot-export|import,
 * reason=transport-key-ID|host-key-ID naming the key it is now under).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "core/args.h"
#include "core/json.h"
#include "core/launch/audit.h"
#include "core/launch/commands.h"
#include "core/launch/snapbox.h"
#include "core/log.h"
#include "core/util.h"

#define META_MAX (256u * 1024u)

struct snap_args {
	const char *dir, *out, *transport, *key;
};

static void snap_usage(const char *cmd)
{
	fprintf(stderr, "usage: bulwark %s DIR --transport-key FILE --out DIR "
		"[--key FILE]\n", cmd);
}

static int snap_args_parse(int argc, char **argv, const char *cmd, struct snap_args *a)
{
	static const struct option o[] = {
		{ "transport-key", 1, NULL, 't' }, { "out", 1, NULL, 'o' },
		{ "key", 1, NULL, 'k' }, { NULL, 0, NULL, 0 },
	};
	int c, rc = args_once(argc, argv, o, "");

	memset(a, 0, sizeof(*a));
	optind = 1;
	while (!rc && (c = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (c) {
		case 't': a->transport = optarg; break;
		case 'o': a->out = optarg; break;
		case 'k': a->key = optarg; break;
		default: rc = -EINVAL; break;
		}
	}
	if (!rc && optind + 1 == argc)
		a->dir = argv[optind];
	if (rc || !a->dir || !a->out || !a->transport) {
		snap_usage(cmd);
		return -EINVAL;
	}
	return 0;
}

struct meta_buf {
	char *buf;
	size_t len;
};

static int meta_sink(void *ctx, const void *buf, size_t n)
{
	struct meta_buf *m = ctx;

	if (m->len + n > META_MAX)
		return -EFBIG;
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	return 0;
}

/* The guest's name and uuid from the snapshot's META (for the record);
 * "?" where the snapshot does not say. */
static void snap_guest(const char *dir, const struct snapbox_key *k, char *name,
		       size_t ncap, char *uuid, size_t ucap)
{
	struct meta_buf m = { malloc(META_MAX), 0 };
	struct snapbox *b = NULL;
	json_object *top = NULL, *v;

	if (m.buf && !snapbox_open(dir, k, &b, NULL) &&
	    !snapbox_read(b, SNAPBOX_META, meta_sink, &m) &&
	    !json_parse_strict(m.buf, m.len, META_MAX, &top, NULL, 0)) {
		if (json_object_object_get_ex(top, "name", &v) && json_object_is_type(v, json_type_string))
			snprintf(name, ncap, "%s", json_object_get_string(v));
		if (json_object_object_get_ex(top, "uuid", &v) && json_object_is_type(v, json_type_string))
			snprintf(uuid, ucap, "%s", json_object_get_string(v));
	}
	json_object_put(top);
	snapbox_close(b);
	free(m.buf);
}

/* export: host key -> transport key (made if absent); import: the reverse,
 * the host key made on first use. */
static int snap_move(const struct snap_args *a, int export, const char *op)
{
	struct snapbox_key host, transport, *from, *to;
	struct audit_guest g = { 0 };
	char name[128], uuid[64], id_from[17], id_to[17], reason[64], hex[65];
	uint8_t digest[32];
	int rc, made = 0;

	rc = snapbox_key_load(a->key, !export, &host);
	rc = rc ? rc : snapbox_key_load(a->transport, export, &transport);
	if (rc)
		return rc;
	from = export ? &host : &transport;
	to = export ? &transport : &host;
	snapbox_key_id_hex(from, id_from);
	snapbox_key_id_hex(to, id_to);
	if (mkdir(a->out, 0700) == 0)
		made = 1;
	else if (errno != EEXIST)
		rc = -errno;
	rc = rc ? rc : snapbox_reseal(a->dir, from, a->out, to, digest);
	if (rc && made)
		(void)rmdir(a->out);           /* nothing left of a refused move */
	snprintf(name, sizeof(name), "?");
	uuid[0] = 0;
	if (!rc)
		snap_guest(a->out, to, name, sizeof(name), uuid, sizeof(uuid));
	g.name = name;
	g.uuid = uuid[0] ? uuid : NULL;   /* one audit_uuid() refuses is dropped: "?" */
	if (g.uuid && strspn(uuid, "0123456789abcdef-") != 36)
		g.uuid = NULL;
	snprintf(reason, sizeof(reason), "%s-key-%s", export ? "transport" : "host", id_to);
	audit_control(&g, op, reason, rc == 0);
	if (!rc) {
		hex_encode(digest, 32, hex);
		printf("%s: %s (key %s) re-sealed as %s (key %s), sha256 %s\n", op, a->dir,
		       id_from, a->out, id_to, hex);
	}
	OPENSSL_cleanse(&host, sizeof(host));
	OPENSSL_cleanse(&transport, sizeof(transport));
	return rc;
}

int cmd_snapshot_export(int argc, char **argv)
{
	struct snap_args a;

	if (snap_args_parse(argc, argv, "snapshot-export", &a))
		return 2;
	return snap_move(&a, 1, "snapshot-export") ? 1 : 0;
}

int cmd_snapshot_import(int argc, char **argv)
{
	struct snap_args a;

	if (snap_args_parse(argc, argv, "snapshot-import", &a))
		return 2;
	return snap_move(&a, 0, "snapshot-import") ? 1 : 0;
}
