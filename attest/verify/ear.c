/* SPDX-License-Identifier: Apache-2.0 */
/* EAR JSON and the readable report (ear.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "attest/verify/ear.h"
#include "core/util.h"

static int put(json_object *o, const char *key, json_object *v)
{
	int rc = !v ? -1 : key ? json_object_object_add(o, key, v) : json_object_array_add(o, v);

	if (rc && v)
		json_object_put(v);
	return rc ? -ENOMEM : 0;
}

static json_object *reasons_json(const struct verify_failure *fail, size_t nfail)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < nfail; i++) {
		json_object *f = json_object_new_object();
		int rc = f ? 0 : -ENOMEM;

		rc = rc ? rc : put(f, "reason", json_object_new_string(
				   verify_reason_name(fail[i].reason)));
		rc = rc ? rc : put(f, "code", json_object_new_int(fail[i].reason));
		rc = rc ? rc : put(f, "detail", json_object_new_string(fail[i].detail));
		if (rc || put(arr, NULL, f)) {
			json_object_put(rc ? f : NULL);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/* The quote's TPMS_CLOCK_INFO (the batch orders a vTPM's quotes by it). */
static json_object *clock_json(const struct verify_result *res)
{
	json_object *c = json_object_new_object();
	int rc = c ? 0 : -ENOMEM;

	rc = rc ? rc : put(c, "clock", json_object_new_int64((int64_t)res->clock));
	rc = rc ? rc : put(c, "reset-count", json_object_new_int64(res->reset_count));
	rc = rc ? rc : put(c, "restart-count", json_object_new_int64(res->restart_count));
	rc = rc ? rc : put(c, "safe", json_object_new_boolean(res->clock_safe));
	if (rc) {
		json_object_put(c);
		return NULL;
	}
	return c;
}

/* The security states the guest ran under: its boot, then each restore. */
static json_object *chain_json(const struct verify_result *res)
{
	json_object *arr = json_object_new_array();
	int rc = arr ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < res->nchain; i++) {
		const struct verify_link *l = &res->chain[i];
		json_object *o = json_object_new_object();

		rc = o ? 0 : -ENOMEM;
		rc = rc ? rc : put(o, "event", json_object_new_string(l->restored ? "restored" :
								 l->migrated ? "migrated" : "booted"));
		if (l->migrated) {
			rc = rc ? rc : put(o, "source_host", json_object_new_string(l->source));
			rc = rc ? rc : put(o, "source_cert_sha256",
					   json_object_new_string(l->source_cert));
			rc = rc ? rc : put(o, "stream_sha256", json_object_new_string(l->snapshot));
			rc = rc ? rc : put(o, "time", json_object_new_string(l->time));
		}
		if (l->restored) {
			rc = rc ? rc : put(o, "snapshot_sha256", json_object_new_string(l->snapshot));
			rc = rc ? rc : put(o, "time", json_object_new_string(l->time));
		}
		rc = rc ? rc : put(o, "label", json_object_new_string(l->label));
		rc = rc ? rc : put(o, "svirt", json_object_new_string(l->svirt));
		rc = rc ? rc : put(o, "selinux", json_object_new_string(l->selinux));
		rc = rc ? rc : put(o, "policy_sha256", json_object_new_string(l->policy));
		rc = rc ? rc : put(o, "filters", json_object_new_string(l->filters));
		if (rc)
			json_object_put(o);
		else
			rc = put(arr, NULL, o);
	}
	if (rc) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

static json_object *submod_json(const struct verify_result *res, const char *source,
				const char *policy)
{
	json_object *s = json_object_new_object(), *tv = json_object_new_object();
	json_object *g = json_object_new_object();
	int rc = s && tv && g ? 0 : -ENOMEM;

	for (int i = 0; !rc && i < TV_COUNT; i++)
		rc = put(tv, verify_claim_name(i), json_object_new_int(res->vector[i]));
	rc = rc ? rc : put(g, "name", json_object_new_string(res->name));
	rc = rc ? rc : put(g, "uuid", json_object_new_string(res->uuid));
	rc = rc ? rc : put(g, "label", json_object_new_string(res->label));
	rc = rc ? rc : put(s, "ear.status", json_object_new_string(
			   verify_status_name(res->status)));
	rc = rc ? rc : put(s, "ear.trustworthiness-vector", json_object_get(tv));
	rc = rc ? rc : put(s, "ear.appraisal-policy-id", json_object_new_string(policy));
	rc = rc ? rc : put(s, "bulwark.guest", json_object_get(g));
	rc = rc ? rc : put(s, "bulwark.source", json_object_new_string(source));
	rc = rc ? rc : put(s, "bulwark.nonce", json_object_new_string(res->nonce_hex));
	rc = rc ? rc : put(s, "bulwark.fresh", json_object_new_boolean(res->fresh));
	rc = rc ? rc : put(s, "bulwark.clock", clock_json(res));
	rc = rc ? rc : put(s, "bulwark.reasons", reasons_json(res->fail, res->nfail));
	rc = rc ? rc : put(s, "bulwark.chain", chain_json(res));
	json_object_put(tv);
	json_object_put(g);
	if (rc) {
		json_object_put(s);
		return NULL;
	}
	return s;
}

/* The host that ran the guest: its own status and trust vector (issue 15). */
static json_object *host_submod_json(const struct verify_host_result *h, const char *policy)
{
	json_object *s = json_object_new_object(), *tv = json_object_new_object();
	int rc = s && tv ? 0 : -ENOMEM;

	for (int i = 0; !rc && i < TV_COUNT; i++)
		rc = put(tv, verify_claim_name(i), json_object_new_int(h->vector[i]));
	rc = rc ? rc : put(s, "ear.status", json_object_new_string(verify_status_name(h->status)));
	rc = rc ? rc : put(s, "ear.trustworthiness-vector", json_object_get(tv));
	rc = rc ? rc : put(s, "ear.appraisal-policy-id", json_object_new_string(policy));
	rc = rc ? rc : put(s, "bulwark.ima-entries", json_object_new_int64(h->entries));
	rc = rc ? rc : put(s, "bulwark.reasons", reasons_json(h->fail, h->nfail));
	json_object_put(tv);
	if (rc) {
		json_object_put(s);
		return NULL;
	}
	return s;
}

static json_object *ear_object(const struct verify_result *res, const char *source,
			       const char *policy, time_t iat)
{
	json_object *o = json_object_new_object(), *vid = json_object_new_object();
	json_object *subs = json_object_new_object();
	int rc = o && vid && subs ? 0 : -ENOMEM;

	rc = rc ? rc : put(o, "eat_profile", json_object_new_string(EAR_PROFILE));
	rc = rc ? rc : put(o, "iat", json_object_new_int64((int64_t)iat));
	rc = rc ? rc : put(vid, "developer", json_object_new_string("bulwark"));
	rc = rc ? rc : put(vid, "build", json_object_new_string(EAR_VERIFIER));
	rc = rc ? rc : put(o, "ear.verifier-id", json_object_get(vid));
	rc = rc ? rc : put(subs, res->name[0] ? res->name : "unknown",
			   submod_json(res, source, policy));
	/* "bulwark:host": a colon is in no guest name ([A-Za-z0-9_.-]). */
	if (res->host.present)
		rc = rc ? rc : put(subs, "bulwark:host", host_submod_json(&res->host, policy));
	/* Issue 18: each migration's source host, by its link in the chain. */
	for (size_t i = 0; !rc && i < res->nhops && i < BUNDLE_MAX_HOPS; i++) {
		json_object *h = host_submod_json(&res->hops[i].r, policy);
		char key[48];

		snprintf(key, sizeof(key), "bulwark:host:migration-%zu", i + 1);
		rc = h ? put(h, "bulwark.chain-link", json_object_new_int64(res->hops[i].link)) :
			 -ENOMEM;
		rc = rc ? rc : put(h, "bulwark.stream-sha256",
				   json_object_new_string(res->hops[i].stream));
		rc = rc ? rc : put(subs, key, json_object_get(h));
		json_object_put(h);
	}
	rc = rc ? rc : put(o, "submods", json_object_get(subs));
	json_object_put(vid);
	json_object_put(subs);
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int text_out(json_object *o, char **out)
{
	const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;

	*out = s ? strdup(s) : NULL;
	json_object_put(o);
	return *out ? 0 : -ENOMEM;
}

int ear_json(const struct verify_result *res, const char *source, const char *policy,
	     time_t iat, char **out)
{
	return text_out(ear_object(res, source, policy, iat), out);
}

int ear_write(FILE *f, const struct verify_result *res, const char *const *sources,
	      size_t n, const char *policy, time_t iat)
{
	json_object *arr = n == 1 ? NULL : json_object_new_array();
	char *text = NULL;
	int rc = n == 1 || arr ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && arr && i < n; i++)
		rc = put(arr, NULL, ear_object(&res[i], sources[i], policy, iat));
	if (rc) {
		json_object_put(arr);
		return rc;
	}
	rc = text_out(arr ? arr : ear_object(res, sources[0], policy, iat), &text);
	if (!rc && fprintf(f, "%s\n", text) < 0)
		rc = -EIO;
	free(text);
	return rc;
}

void ear_report(FILE *f, const struct verify_result *res, const char *source)
{
	fprintf(f, "%s: %s\n", source, verify_status_name(res->status));
	fprintf(f, "  guest      %s (%s)\n", res->name[0] ? res->name : "?",
		res->uuid[0] ? res->uuid : "?");
	fprintf(f, "  label      %s\n", res->label[0] ? res->label : "(not established)");
	fprintf(f, "  AK         %s\n", res->ak_subject[0] ? res->ak_subject : "?");
	fprintf(f, "  nonce      %s (%s)\n", res->nonce_hex[0] ? res->nonce_hex : "?",
		res->fresh ? "issued by this verifier" : "freshness not established");
	fprintf(f, "  quote      clock %llu ms%s, resets %u, restarts %u, %u events\n",
		(unsigned long long)res->clock, res->clock_safe ? "" : " (not safe)",
		res->reset_count, res->restart_count, res->events);
	for (size_t i = 0; i < res->nchain; i++) {
		const struct verify_link *l = &res->chain[i];

		if (l->restored)
			fprintf(f, "  %-10s %s from snapshot %s\n", i ? "" : "chain",
				l->time, l->snapshot);
		if (l->migrated)
			fprintf(f, "  %-10s %s from host %s (cert %.16s), stream %s\n",
				i ? "" : "chain", l->time, l->source, l->source_cert, l->snapshot);
		fprintf(f, "  %-10s %s under %s, svirt %s, selinux %s, policy %.16s, "
			"filters %s\n", i ? "" : "chain", l->restored ? "restored" :
			l->migrated ? "migrated" : "booted",
			l->label[0] ? l->label : "?", l->svirt, l->selinux, l->policy,
			l->filters[0] ? l->filters : "none");
	}
	fprintf(f, "  vector    ");
	for (int i = 0; i < TV_COUNT; i++)
		fprintf(f, " %s=%d", verify_claim_name(i), res->vector[i]);
	fprintf(f, "\n");
	for (size_t i = 0; i < res->nfail; i++)
		fprintf(f, "  FAIL %-28s %s\n", verify_reason_name(res->fail[i].reason),
			res->fail[i].detail);
	if (!res->host.present)
		return;
	fprintf(f, "  host       %s, %u IMA entries\n  host vector",
		verify_status_name(res->host.status), res->host.entries);
	for (int i = 0; i < TV_COUNT; i++)
		fprintf(f, " %s=%d", verify_claim_name(i), res->host.vector[i]);
	fprintf(f, "\n");
	for (size_t i = 0; i < res->host.nfail; i++)
		fprintf(f, "  HOST FAIL %-28s %s\n", verify_reason_name(res->host.fail[i].reason),
			res->host.fail[i].detail);
	for (size_t k = 0; k < res->nhops && k < BUNDLE_MAX_HOPS; k++) {
		const struct verify_host_result *h = &res->hops[k].r;

		fprintf(f, "  hop %zu      source of migration %u (stream %.16s): %s, %u IMA "
			"entries\n", k + 1, res->hops[k].link, res->hops[k].stream,
			verify_status_name(h->status), h->entries);
		for (size_t i = 0; i < h->nfail; i++)
			fprintf(f, "  HOP %zu FAIL %-28s %s\n", k + 1,
				verify_reason_name(h->fail[i].reason), h->fail[i].detail);
	}
}
