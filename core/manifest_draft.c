/*
 * manifest_draft.c: writes a draft (vxs_manifest.h "Drafts") as manifest text, the way
 * `v2xsync init` hands it out. jansson builds the tree in the schema's key order and dumps it;
 * the text is then read back with our own parser, so a draft it refuses never leaves here.
 *
 * A jansson constructor that returns NULL (a string that is not UTF-8, or jansson out of memory)
 * leaves its key out, as it always has; the parser then refuses the text if the key was required.
 * Our own allocations failing is VXS_E_NOMEM.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vxs_core_int.h"
#include "vxs_manifest.h"

typedef struct {
    const vxs_manifest_draft_t *d;
    const char *out_dir_real; /* NULL: paths stay relative to the drafted folder */
    bool oom;
} wctx_t;

/* path_json is how the manifest names the draft path `rel`: as it is without an output folder;
 * with one, relative to it when the file is below it, else absolute. Symlinks are kept. */
static json_t *path_json(wctx_t *c, const char *rel) {
    if (!c->out_dir_real) return json_string(rel);
    const char *dir = c->d->dir_real;
    char *full = vxsi_strfmt("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, rel);
    if (!full) {
        c->oom = true;
        return NULL;
    }
    const char *base = c->out_dir_real;
    const size_t bl = strlen(base);
    json_t *j;
    if (strcmp(base, "/") == 0) j = json_string(full + 1);
    else if (strncmp(full, base, bl) == 0 && full[bl] == '/') j = json_string(full + bl + 1);
    else j = json_string(full);
    vxs_free(full);
    return j;
}

static json_t *source_json(wctx_t *c, const vxs_draft_source_t *s, const char *sensor) {
    static const char *const fmt_names[] = {"auto", "pcap", "wydot", "hex"};
    json_t *o = json_object();
    json_object_set_new(o, "path", path_json(c, s->path));
    json_object_set_new(o, "kind", json_string(vxs_source_kind_name(s->kind)));
    json_object_set_new(o, "sensor", json_string(sensor));
    if (s->model) json_object_set_new(o, "model", json_string(s->model));
    if (s->calibration) json_object_set_new(o, "calibration", path_json(c, s->calibration));
    if (s->metadata) json_object_set_new(o, "metadata", path_json(c, s->metadata));
    if (s->has_gps_locked)
        json_object_set_new(o, "clock", json_pack("{s:b}", "gps_locked", s->gps_locked));
    if (s->kind == VXS_SOURCE_V2X) {
        const unsigned f = (unsigned)s->v2x_format;
        json_object_set_new(o, "format",
                            json_string(f < sizeof fmt_names / sizeof *fmt_names ? fmt_names[f]
                                                                                 : "unknown"));
        if (s->has_own_station_id)
            json_object_set_new(o, "own_station_id", json_integer(s->own_station_id));
        if (s->n_own_macs) {
            json_t *macs = json_array();
            for (size_t i = 0; i < s->n_own_macs && i < VXS_DRAFT_MAX_OWN_MACS; i++) {
                const uint8_t *m = s->own_macs[i];
                json_array_append_new(macs, json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0],
                                                         m[1], m[2], m[3], m[4], m[5]));
            }
            json_object_set_new(o, "own_macs", macs);
        }
    }
    if (s->timestamps) json_object_set_new(o, "timestamps", path_json(c, s->timestamps));
    return o;
}

/* manifest_json builds the draft in the schema's key order. */
static json_t *manifest_json(wctx_t *c) {
    const vxs_manifest_draft_t *d = c->d;
    json_t *root = json_object(), *arr = json_array();
    json_object_set_new(root, "version", json_integer(1));
    if (d->name) json_object_set_new(root, "name", json_string(d->name));
    json_object_set_new(root, "agents", arr);
    const vxs_draft_agent_t *ref = NULL;
    char ref_sensor[24] = "";
    for (size_t i = 0; i < d->n_agents; i++) {
        const vxs_draft_agent_t *a = &d->agents[i];
        json_t *aj = json_object(), *srcs = json_array();
        json_object_set_new(aj, "id", json_string(a->id));
        json_object_set_new(aj, "type", json_string(vxs_agent_type_name(a->type)));
        json_object_set_new(aj, "sources", srcs);
        unsigned per_kind[VXS_SOURCE_KIND_COUNT + 1] = {0}; /* the last: a kind out of range */
        for (size_t k = 0; k < a->n_sources; k++) {
            const vxs_draft_source_t *s = &a->sources[k];
            const size_t ki = (unsigned)s->kind < VXS_SOURCE_KIND_COUNT ? (size_t)s->kind
                                                                         : VXS_SOURCE_KIND_COUNT;
            const unsigned nth = ++per_kind[ki];
            char sensor[24];
            if (nth == 1) snprintf(sensor, sizeof sensor, "%s", vxs_source_kind_name(s->kind));
            else snprintf(sensor, sizeof sensor, "%s%u", vxs_source_kind_name(s->kind), nth);
            if (!ref && s->kind == VXS_SOURCE_LIDAR) {
                ref = a;
                snprintf(ref_sensor, sizeof ref_sensor, "%s", sensor);
            }
            json_array_append_new(srcs, source_json(c, s, sensor));
        }
        json_array_append_new(arr, aj);
    }
    if (ref)
        json_object_set_new(root, "reference",
                            json_pack("{s:s,s:s}", "agent", ref->id, "sensor", ref_sensor));
    return root;
}

vxs_status_t vxs_manifest_draft_json(char **out_text, size_t *out_len,
                                     const vxs_manifest_draft_t *draft, const char *out_dir_real,
                                     char *err, size_t err_len) {
    wctx_t c = {draft, out_dir_real, false};
    const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
    vxs_status_t st = VXS_E_NOMEM;
    vxs_manifest_t *m = NULL;
    json_t *root = NULL;
    char *text = NULL;
    size_t n = 0;
    if (err && err_len) err[0] = '\0';
    if (!out_text || !out_len) return VXS_E_ARG;
    *out_text = NULL;
    *out_len = 0;
    if (!draft || !draft->dir_real || (draft->n_agents && !draft->agents)) {
        vxsi_fmt(err, err_len, "draft: no draft, folder or agents given");
        return VXS_E_ARG;
    }
    root = manifest_json(&c);
    if (!root || c.oom || (n = json_dumpb(root, NULL, 0, flags)) == 0) goto end;
    if (!(text = vxs_malloc(n + 2))) goto end;
    json_dumpb(root, text, n, flags);
    text[n] = '\n';
    text[n + 1] = '\0';
    /* Never hand out a manifest our own parser refuses. */
    st = vxs_manifest_parse(&m, text, n + 1, NULL, "draft", err, err_len);
    vxs_manifest_free(m);
end:
    json_decref(root);
    if (st == VXS_E_NOMEM) vxsi_fmt(err, err_len, "draft: out of memory");
    if (st != VXS_OK) {
        vxs_free(text);
        return st;
    }
    *out_text = text;
    *out_len = n + 1;
    return VXS_OK;
}

static void free_source(vxs_draft_source_t *s) {
    vxs_free(s->path);
    vxs_free(s->model);
    vxs_free(s->calibration);
    vxs_free(s->metadata);
    vxs_free(s->timestamps);
}

void vxs_manifest_draft_free(vxs_manifest_draft_t *draft) {
    if (!draft) return;
    for (size_t i = 0; i < draft->n_agents && draft->agents; i++) {
        vxs_draft_agent_t *a = &draft->agents[i];
        for (size_t k = 0; k < a->n_sources && a->sources; k++) free_source(&a->sources[k]);
        vxs_free(a->sources);
        vxs_free(a->id);
    }
    vxs_free(draft->agents);
    vxs_free(draft->name);
    vxs_free(draft->dir_real);
    vxs_free(draft);
}
