/* SPDX-License-Identifier: Apache-2.0 */
/* `bulwark run`'s audit records (core/launch/audit.h): what the launch
 * knows, said in libvirt's records. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attest/producer/attestd.h"
#include "core/launch/audit.h"
#include "core/launch/launcher.h"
#include "core/vmm_abi.h"

/* STATE/NAME/uuid (attestd.h) as it is, "" when it is not one UUID. */
static void launch_audit_uuid_read(const char *state_dir, const char *name,
				   char uuid[37])
{
	char path[PATH_MAX], buf[40];
	ssize_t n = -1;
	int fd;

	uuid[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s/uuid", state_dir, name) >=
	    (int)sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n == 37 && buf[36] == '\n')
		n = 36;
	if (n != 36)
		return;
	memcpy(uuid, buf, 36);
	uuid[36] = '\0';
}

/* The guest's UUID, "" when it has none.  CREATE (the start record, once
 * the launcher holds STATE/NAME): made on the guest's first start, as
 * libvirt gives every domain one, so that `ausearch -uu` finds a guest that
 * was never enrolled; enrollment reads the same file later.  Otherwise
 * read only: a refused start or a stop leaves the host as it was. */
static void launch_audit_uuid(const struct launch *l, bool create, char uuid[37])
{
	char dir[PATH_MAX];

	uuid[0] = '\0';
	if (!create) {
		launch_audit_uuid_read(l->opt.state_dir, l->cfg.name, uuid);
		return;
	}
	if (snprintf(dir, sizeof(dir), "%s/%s", l->opt.state_dir, l->cfg.name) >=
	    (int)sizeof(dir) || access(dir, F_OK))
		return;
	if (attestd_uuid(dir, uuid))
		uuid[0] = '\0';
}

static void launch_audit_guest(const struct launch *l, bool create,
			       struct audit_guest *g, char uuid[37])
{
	launch_audit_uuid(l, create, uuid);
	g->name = l->cfg.name;
	g->uuid = uuid[0] ? uuid : NULL;
	g->pid = l->vmm_pid;
}

void launch_audit_refused(const struct launch *l, const char *reason)
{
	struct audit_guest g;
	char uuid[37];

	launch_audit_guest(l, false, &g, uuid);
	audit_control(&g, "start", reason, false);
}

/* img-ctx: the image type at the VMM's level (user:object_r:IMAGE:level). */
static void launch_audit_img_ctx(const struct launch *l, char *out, size_t size)
{
	const char *level = l->vmm_label;

	for (int i = 0; i < 3 && level; i++)
		level = strchr(level + (i > 0), ':');
	if (!level || strncmp(l->vmm_label, "system_u:", 9)) {
		snprintf(out, size, "?");
		return;
	}
	snprintf(out, size, "system_u:%s:%s%s", l->scfg.object_role,
		 l->scfg.obj_type[SVIRT_OBJ_IMAGE], level);
}

void launch_audit_started(const struct launch *l)
{
	struct audit_guest g;
	char uuid[37], img[SVIRT_LABEL_MAX + 64], mac[18], num[24];

	launch_audit_guest(l, true, &g, uuid);
	if (l->svm) {
		launch_audit_img_ctx(l, img, sizeof(img));
		audit_machine_id(&g, l->vmm_label, img, true);
	}
	for (uint32_t i = 0; i < l->cfg.ndisks; i++)
		audit_resource(&g, "disk", "start", NULL, l->cfg.disks[i].path, true);
	if (l->cfg.net) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", l->cfg.mac[0],
			 l->cfg.mac[1], l->cfg.mac[2], l->cfg.mac[3], l->cfg.mac[4],
			 l->cfg.mac[5]);
		audit_resource(&g, "net", "start", NULL, mac, true);
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)l->cfg.memory_mib * 1024);
	audit_resource(&g, "mem", "start", "0", num, true);
	snprintf(num, sizeof(num), "%u", l->cfg.cpus);
	audit_resource(&g, "vcpu", "start", "0", num, true);
	if (l->vtpm_running)
		audit_resource(&g, "tpm-emulator", "start", NULL, l->vtpm_dir, true);
	audit_control(&g, "start", "booted", true);
}

void launch_audit_stopped(const struct launch *l, int status)
{
	struct audit_guest g;
	char uuid[37];
	const char *reason = "crashed";

	if (status == VMM_EXIT_OK)
		reason = "power-off";
	else if (status == VMM_EXIT_STOPPED)
		reason = "stopped-hard";
	else if (status > 128)
		reason = "killed";
	else if (status == VMM_EXIT_SETUP)
		reason = "failed";
	launch_audit_guest(l, false, &g, uuid);
	audit_control(&g, "stop", reason, status == VMM_EXIT_OK || status == VMM_EXIT_STOPPED);
}

void launch_audit_control(const struct launch *l, const char *op, bool ok)
{
	struct audit_guest g;
	char uuid[37];

	launch_audit_guest(l, false, &g, uuid);
	audit_control(&g, op, "control-api", ok);
}

void launch_audit_gone(const char *name, int32_t pid)
{
	struct audit_guest g = { .name = name, .pid = pid };
	char uuid[37];

	launch_audit_uuid_read(LAUNCH_STATE_DIR, name, uuid);
	g.uuid = uuid[0] ? uuid : NULL;
	audit_control(&g, "stop", "crashed", false);
}
