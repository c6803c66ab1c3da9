/*
 * cli.h: the pieces shared by v2xsync's subcommands: one option table per subcommand (curl's
 * `aliases[]`), from which both parsing and --help are generated; exit codes; progress display.
 */
#ifndef VXS_CLI_H
#define VXS_CLI_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vxs_core.h"
#include "vxs_manifest.h"

/* Exit codes (README "Exit status"). */
enum { VXS_EXIT_OK = 0, VXS_EXIT_FINDINGS = 1, VXS_EXIT_USAGE = 2 };

/* vxs_cli_opt_t is one option of a subcommand. `arg` names its argument in --help (NULL for a
 * flag). A table ends with an entry whose lname is NULL. */
typedef struct {
    const char *lname;
    char sname;
    const char *arg;
    const char *help;
    int id;
} vxs_cli_opt_t;

/* vxs_cli_cmd_t describes a subcommand. */
typedef struct {
    const char *name;
    const char *usage;   /* after "v2xsync NAME ", e.g. "[options] FILE..." */
    const char *summary; /* one line for `v2xsync --help` */
    const char *details; /* paragraphs printed by `v2xsync NAME --help` after the options */
    const vxs_cli_opt_t *opts;
    int (*run)(int argc, char **argv);
} vxs_cli_cmd_t;

/* vxs_cli_handler_fn receives one parsed option (arg NULL for flags); returns 0 to go on, or
 * non-zero after printing an error. */
typedef int (*vxs_cli_handler_fn)(void *user, int id, const char *arg);

/* vxs_cli_parse parses argv[1..] (argv[0] is the subcommand) against cmd->opts. It handles
 * --help itself (prints help, returns -1 with *out_exit = 0). Positional arguments are gathered
 * in order into argv[0..*out_npos) (argv is rearranged in place). Returns 0 on success; -1 when
 * the caller must exit with *out_exit (usage error: message printed, exit 2). "--" ends options. */
int vxs_cli_parse(const vxs_cli_cmd_t *cmd, int argc, char **argv, vxs_cli_handler_fn fn,
                  void *user, int *out_npos, int *out_exit);

/* vxs_cli_print_help prints the help of `cmd` to `out`, generated from its option table. */
void vxs_cli_print_help(const vxs_cli_cmd_t *cmd, FILE *out);

/* vxs_cli_usage_error prints "v2xsync CMD: MESSAGE" and a hint to stderr; returns
 * VXS_EXIT_USAGE. */
int vxs_cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* vxs_cli_progress_t draws a progress bar on stderr when stderr is a terminal (and the user did
 * not ask for --quiet), redrawn at most 10 times a second. */
typedef struct {
    bool enabled;
    const char *label;
    uint64_t last_draw_ns;
    uint64_t start_ns;
    bool drawn;
} vxs_cli_progress_t;

/* vxs_cli_progress_begin starts a bar labelled `label` (borrowed); enabled only on a terminal
 * and when `quiet` is false. */
void vxs_cli_progress_begin(vxs_cli_progress_t *p, const char *label, bool quiet);

/* vxs_cli_progress_fn is a vxs_progress_fn drawing into a vxs_cli_progress_t (user). */
int vxs_cli_progress_fn(void *user, uint64_t done, uint64_t total);

/* vxs_cli_progress_end erases the bar. */
void vxs_cli_progress_end(vxs_cli_progress_t *p);

/* Subcommands. */
int vxs_cmd_inspect(int argc, char **argv);
int vxs_cmd_synth(int argc, char **argv);
int vxs_cmd_demo(int argc, char **argv);
extern const vxs_cli_cmd_t vxs_cmd_inspect_def;
extern const vxs_cli_cmd_t vxs_cmd_synth_def;
extern const vxs_cli_cmd_t vxs_cmd_demo_def;
int vxs_cmd_dump(int argc, char **argv);
extern const vxs_cli_cmd_t vxs_cmd_dump_def;
extern const vxs_cli_cmd_t vxs_cmd_sync_def;

/* What vxs_cli_sync prints on stdout. */
typedef enum { VXS_CLI_PRINT_NONE = 0, VXS_CLI_PRINT_TEXT = 1, VXS_CLI_PRINT_JSON = 2 } vxs_cli_print_t;

/* vxs_cli_sync_opts_t is `v2xsync sync`'s options. */
typedef struct {
    const char *out; /* output folder; NULL: the manifest's export.out */
    bool force;
    bool quiet;      /* no progress bar */
    vxs_cli_print_t print;
    /* the labeled bundle (--bundle and its options) */
    bool bundle;
    bool resume;
    unsigned every;       /* 0: every frame */
    double from_s, to_s;  /* seconds from the clocks' epoch; NaN: unbounded */
    const char *agents;   /* comma-separated ids; NULL: all */
    const char *sensors;  /* comma-separated agent/sensor; NULL: all */
    int png_level;        /* -1: the manifest's export.png_level */
    unsigned threads;     /* 0: 2 */
    bool report;          /* also write the QA report (report.html, report.json) */
    bool allow_in_input;  /* --allow-output-in-input: DIR may lie in a folder holding inputs */
} vxs_cli_sync_opts_t;

/* VXS_CLI_SYNC_OPTS_INIT is vxs_cli_sync_opts_t's defaults: text summary, no bundle. */
#define VXS_CLI_SYNC_OPTS_INIT                                                                   \
    {NULL, false, false, VXS_CLI_PRINT_TEXT, false, false, 0, NAN, NAN, NULL, NULL, -1, 0, false,  \
     false}

struct vxs_job;

/* vxs_cli_sync runs `v2xsync sync` on the manifest `scenario` with the library's job (messages on
 * stderr, the summary on stdout as o->print says) and returns the exit status. When the status is
 * 0 or 1, *out_man and *out_job are the loaded manifest and the finished job (the caller
 * vxs_job_destroy()s the job, then vxs_manifest_free()s the manifest); else both are NULL. */
int vxs_cli_sync(const char *scenario, const vxs_cli_sync_opts_t *o, vxs_manifest_t **out_man,
                 struct vxs_job **out_job);
int vxs_cmd_init(int argc, char **argv);
extern const vxs_cli_cmd_t vxs_cmd_init_def;
extern const vxs_cli_cmd_t vxs_cmd_report_def;
extern const vxs_cli_cmd_t vxs_cmd_check_def;

/* vxs_cli_report writes dir/report.html and dir/report.json (the export module's QA report, the
 * checks' limits from `config` or the defaults); prints where unless quiet. Returns the exit
 * status: 0 written, 2 when dir is not a readable sync output or a file cannot be written. */
int vxs_cli_report(const char *dir, const char *config, bool quiet);

/* vxs_cli_report_write writes the report of the outputs in `from` into the folder `into` (a
 * staging folder: vxs_outset_dir) naming `shown` as its folder, without printing on success;
 * *out_verdict gets its verdict (0 OK, 1 WARN, 2 ERROR). Returns the exit status as
 * vxs_cli_report does (the error printed as `cmd`'s). */
int vxs_cli_report_write(const char *cmd, const char *from, const char *into, const char *shown,
                         const char *config, int *out_verdict);

#endif
