/*
 * main.c: the v2xsync program: global options and dispatch to subcommands. Each subcommand
 * parses its own options from its table (cli.h) and calls the library; nothing here parses
 * input data.
 */
#include <stdio.h>
#include <string.h>
#if defined(__GLIBC__)
#endif

#include "cli.h"

static const vxs_cli_cmd_t *const commands[] = {&vxs_cmd_demo_def, &vxs_cmd_inspect_def,
                                                &vxs_cmd_dump_def, &vxs_cmd_synth_def,
                                                &vxs_cmd_sync_def, &vxs_cmd_report_def,
                                                &vxs_cmd_check_def, &vxs_cmd_init_def};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_main_help(FILE *out) {
    fprintf(out,
            "Usage: v2xsync [--version] [--help] COMMAND [options] [args]\n\n"
            "v2xsync turns the recordings of several road users (LiDAR captures, camera video,\n"
            "V2X message logs) into synchronized, annotated training data.\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n'v2xsync COMMAND --help' shows a command's options.\n"
                 "Exit status: 0 ok, 1 findings (damaged input found, a check failed),\n"
                 "2 usage or input error.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_main_help(stderr);
        return VXS_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        if (strcmp(c, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(argv[2], commands[i]->name) == 0) {
                    vxs_cli_print_help(commands[i], stdout);
                    return VXS_EXIT_OK;
                }
        }
        print_main_help(stdout);
        return VXS_EXIT_OK;
    }
    if (strcmp(c, "--version") == 0 || strcmp(c, "version") == 0) {
        printf("v2xsync %s\n", vxs_version());
        return VXS_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(c, commands[i]->name) == 0) return commands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "v2xsync: unknown command '%s'\n\n", c);
    print_main_help(stderr);
    return VXS_EXIT_USAGE;
}
