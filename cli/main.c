/*
 * main.c: the v2xsync program: global options and dispatch to subcommands. Each subcommand
 * parses its own options from its table (cli.h) and calls the library; nothing here parses
 * input data.
 */
#include <stdio.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli.h"

static const vxs_cli_cmd_t *const commands[] = {&vxs_cmd_demo_def, &vxs_cmd_inspect_def,
                                                &vxs_cmd_dump_def, &vxs_cmd_synth_def,
                                                &vxs_cmd_sync_def,
                                                &vxs_cmd_init_def};
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

/* tune_malloc fixes glibc's mmap threshold at its default, 128 KiB. Left dynamic, glibc raises
 * the threshold to the size of every large block freed (up to 32 MiB): after the first demuxer
 * closes, the growing buffers that follow (offset series, sample tables) land in the brk heap,
 * where each doubling leaves a hole that is kept resident, so the peak grew with the length of
 * the drive (10 MB more for a 60-minute drive than for a 10-minute one). Fixed, blocks of 128
 * KiB and more get their own mapping, returned to the system when freed. Measured to cost no
 * time. A program's choice, not the library's: the library never calls mallopt. */
static void tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
    (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

int main(int argc, char **argv) {
    tune_malloc();
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
