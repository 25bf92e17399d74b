// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * plugin.c - find a replay plug-in: built in by name, else the shared
 * object PATH/ffpf_replay_NAME.so (or NAME itself when it has a '/'),
 * with its descriptor checked against the ABI this binary speaks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

static const struct ffpf_replay_plugin *const builtins[] = {
	&rp_plugin_default,
	&rp_plugin_http,
};
#define NBUILTIN (sizeof(builtins) / sizeof(builtins[0]))

/* The descriptor must reach at least this far (ABI version 1). */
#define RP_PLUGIN_MIN_SZ (offsetof(struct ffpf_replay_plugin, flow_end) + sizeof(void *))

void rp_plugin_list(FILE *out)
{
	for (size_t i = 0; i < NBUILTIN; i++)
		fprintf(out, "%-10s %s\n", builtins[i]->name, builtins[i]->description);
}

int rp_timeouts_init(const char *args, const struct ffpf_replay_config *cfg, void **global)
{
	struct rp_timeouts *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->quiet_ms = cfg->quiet_ms;
	g->hung_ms = cfg->hung_ms;
	if (rp_args_u32(args, "quiet", &g->quiet_ms) || rp_args_u32(args, "hung", &g->hung_ms)) {
		free(g);
		return -EINVAL;
	}
	*global = g;
	return 0;
}

void rp_timeouts_fini(void *global)
{
	free(global);
}

int rp_args_u32(const char *args, const char *key, uint32_t *val)
{
	size_t kl = strlen(key);
	const char *p = args;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			char *end;
			unsigned long v = strtoul(p + kl + 1, &end, 10);

			if (end == p + kl + 1 || (*end && *end != ',') || v > 0xffffffffUL) {
				fprintf(stderr, "ffpf-replay: plug-in argument %s: not a number\n", key);
				return -EINVAL;
			}
			*val = (uint32_t)v;
			return 0;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

static int check_desc(const struct ffpf_replay_plugin *d, const char *where,
		      struct rp_plugin_inst *out)
{
	if (d->sz < RP_PLUGIN_MIN_SZ) {
		fprintf(stderr, "ffpf-replay: %s: plug-in descriptor too small (sz %zu, need %zu)\n",
			where, d->sz, (size_t)RP_PLUGIN_MIN_SZ);
		return -EINVAL;
	}
	if (d->abi_version != FFPF_REPLAY_ABI_VERSION) {
		fprintf(stderr, "ffpf-replay: %s: plug-in ABI version %u, this ffpf-replay speaks %u: rebuild it against this include/ffpf/replay.h\n",
			where, d->abi_version, FFPF_REPLAY_ABI_VERSION);
		return -EINVAL;
	}
	if (!d->name) {
		fprintf(stderr, "ffpf-replay: %s: plug-in has no name\n", where);
		return -EINVAL;
	}
	/* a newer, larger descriptor: we use the part we know */
	memset(&out->p, 0, sizeof(out->p));
	memcpy(&out->p, d, d->sz < sizeof(out->p) ? d->sz : sizeof(out->p));
	return 0;
}

int rp_plugin_load(const char *spec, const char *path, const struct ffpf_replay_config *cfg,
		   struct rp_plugin_inst *out)
{
	const struct ffpf_replay_plugin *d = NULL;
	char name[256], file[4096];
	const char *colon = strchr(spec, ':');
	size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
	int r;

	memset(out, 0, sizeof(*out));
	if (!nl || nl >= sizeof(name)) {
		fprintf(stderr, "ffpf-replay: --plugin '%s': bad plug-in name\n", spec);
		return -EINVAL;
	}
	memcpy(name, spec, nl);
	name[nl] = '\0';
	out->args = colon ? colon + 1 : "";
	for (size_t i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtins[i]->name, name))
			d = builtins[i];
	if (d) {
		r = check_desc(d, name, out);
	} else {
		if (strchr(name, '/'))
			snprintf(file, sizeof(file), "%s", name);
		else
			snprintf(file, sizeof(file), "%s/ffpf_replay_%s.so", path, name);
		out->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
		if (!out->dl) {
			fprintf(stderr, "ffpf-replay: plug-in '%s' is not built in and %s cannot be loaded: %s\n",
				name, file, dlerror());
			return -ENOENT;
		}
		d = dlsym(out->dl, FFPF_REPLAY_PLUGIN_SYMBOL);
		if (!d) {
			fprintf(stderr, "ffpf-replay: %s: no symbol %s: not an ffpf-replay plug-in\n",
				file, FFPF_REPLAY_PLUGIN_SYMBOL);
			dlclose(out->dl);
			out->dl = NULL;
			return -ENOENT;
		}
		r = check_desc(d, file, out);
	}
	if (r) {
		rp_plugin_unload(out);
		return r;
	}
	if (out->p.init && (r = out->p.init(out->args, cfg, &out->global))) {
		fprintf(stderr, "ffpf-replay: plug-in %s: init failed (%s)\n", out->p.name,
			strerror(r < 0 ? -r : r));
		out->p.fini = NULL;
		rp_plugin_unload(out);
		return r < 0 ? r : -r;
	}
	return 0;
}

void rp_plugin_unload(struct rp_plugin_inst *pi)
{
	if (pi->p.fini)
		pi->p.fini(pi->global);
	pi->p.fini = NULL;
	if (pi->dl)
		dlclose(pi->dl);
	pi->dl = NULL;
}
