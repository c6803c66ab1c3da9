/*
 * opts.c: option parsing and help text generated from one table per subcommand, so the two can
 * never disagree (curl's tool_getparam.c aliases[] and tool_help.c).
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void vxs_cli_print_help(const vxs_cli_cmd_t *cmd, FILE *out) {
    fprintf(out, "Usage: v2xsync %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (const vxs_cli_opt_t *o = cmd->opts; o && o->lname; o++) {
        char left[64];
        if (o->sname)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->sname, o->lname, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->lname, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(out, "  %-26s %s\n", left, o->help);
    }
    fprintf(out, "  %-26s %s\n", "-h, --help", "show this help and exit");
    if (cmd->details) fprintf(out, "\n%s", cmd->details);
}

int vxs_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "v2xsync %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'v2xsync %s --help'.\n", cmd);
    return VXS_EXIT_USAGE;
}

static const vxs_cli_opt_t *find_long(const vxs_cli_opt_t *t, const char *name, size_t n) {
    for (; t && t->lname; t++)
        if (strlen(t->lname) == n && strncmp(t->lname, name, n) == 0) return t;
    return NULL;
}

static const vxs_cli_opt_t *find_short(const vxs_cli_opt_t *t, char c) {
    for (; t && t->lname; t++)
        if (t->sname == c) return t;
    return NULL;
}

int vxs_cli_parse(const vxs_cli_cmd_t *cmd, int argc, char **argv, vxs_cli_handler_fn fn,
                  void *user, int *out_npos, int *out_exit) {
    int npos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const vxs_cli_opt_t *o = NULL;
        const char *val = NULL;
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            argv[npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            vxs_cli_print_help(cmd, stdout);
            *out_exit = VXS_EXIT_OK;
            return -1;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            o = find_long(cmd->opts, a + 2, n);
            if (o && eq) {
                if (!o->arg) {
                    *out_exit = vxs_cli_usage_error(cmd->name, "option '--%s' takes no value",
                                                    o->lname);
                    return -1;
                }
                val = eq + 1;
            }
        } else if (a[2] == '\0') {
            o = find_short(cmd->opts, a[1]);
        }
        if (!o) {
            *out_exit = vxs_cli_usage_error(cmd->name, "unknown option '%s'", a);
            return -1;
        }
        if (o->arg && !val) {
            if (i + 1 >= argc) {
                *out_exit = vxs_cli_usage_error(cmd->name, "option '--%s' needs %s", o->lname,
                                                o->arg);
                return -1;
            }
            val = argv[++i];
        }
        if (fn(user, o->id, val) != 0) {
            *out_exit = VXS_EXIT_USAGE;
            return -1;
        }
    }
    *out_npos = npos;
    return 0;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vxs_cli_progress_begin(vxs_cli_progress_t *p, const char *label, bool quiet) {
    memset(p, 0, sizeof *p);
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->label = label;
    p->start_ns = now_ns();
}

int vxs_cli_progress_fn(void *user, uint64_t done, uint64_t total) {
    vxs_cli_progress_t *p = user;
    if (!p->enabled) return 0;
    uint64_t t = now_ns();
    if (p->drawn && t - p->last_draw_ns < 100000000u) return 0;
    p->last_draw_ns = t;
    p->drawn = true;
    double secs = (double)(t - p->start_ns) / 1e9;
    double mbs = secs > 0 ? (double)done / 1e6 / secs : 0.0;
    char bar[31];
    int fill = total ? (int)(30.0 * (double)done / (double)total) : 0;
    if (fill > 30) fill = 30;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : ' ';
    bar[30] = '\0';
    if (total)
        fprintf(stderr, "\r%3d%% [%s] %7.1f MB/s  %.40s", (int)(100.0 * (double)done / (double)total),
                bar, mbs, p->label ? p->label : "");
    else
        fprintf(stderr, "\r%10.1f MB  %7.1f MB/s  %.40s", (double)done / 1e6, mbs,
                p->label ? p->label : "");
    fflush(stderr);
    return 0;
}

void vxs_cli_progress_end(vxs_cli_progress_t *p) {
    if (p->enabled && p->drawn) {
        fprintf(stderr, "\r%90s\r", "");
        fflush(stderr);
    }
    p->drawn = false;
}
