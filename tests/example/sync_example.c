/*
 * sync_example.c: run a scenario manifest with libv2xsync, as README "Using the library" shows:
 * open the sources (sensors), create the sinks (export), run the job (sync). Built by the test
 * suite and run on a small synthetic drive (ctest SyncExample), and compiled against the
 * installed library through pkg-config by .ci/run, so the README's example keeps working.
 *
 *   sync_example SCENARIO OUT_DIR      (OUT_DIR must exist)
 */
#include <stdio.h>

#include <vxs_export.h>
#include <vxs_sensors.h>
#include <vxs_sync.h>

int main(int argc, char **argv) {
    char err[1024] = "", path[4096];
    vxs_manifest_t *man = NULL;
    vxs_job_t *job = NULL;
    vxs_frame_sink_t *sinks[2] = {NULL, NULL};
    vxs_job_options_t o;
    int rc = 2;
    if (argc != 3) {
        fprintf(stderr, "usage: %s SCENARIO OUT_DIR\n", argv[0]);
        return 2;
    }
    if (vxs_manifest_load(&man, argv[1], err, sizeof err) != VXS_OK) goto done;
    vxs_job_options_init(&o);
    o.open_source = vxs_source_open_manifest; /* every source with the reader of its kind */
    if (vxs_job_create(&job, man, &o, err, sizeof err) != VXS_OK) goto done;
    snprintf(path, sizeof path, "%s/frames.jsonl", argv[2]);
    if (vxs_frames_jsonl_sink_create(&sinks[0], path, err, sizeof err) != VXS_OK) goto done;
    snprintf(path, sizeof path, "%s/clocks.json", argv[2]);
    if (vxs_clocks_json_sink_create(&sinks[1], path, err, sizeof err) != VXS_OK) goto done;
    if (vxs_job_run(job, sinks, 2) != VXS_OK) { /* index pass, clock solve, frames */
        snprintf(err, sizeof err, "%s", vxs_job_errmsg(job));
        goto done;
    }
    const vxs_clock_report_t *clocks = vxs_job_clocks(job);
    for (size_t i = 0; i < clocks->n_clocks; i++)
        printf("%-40s %-9s %12.3f ms\n", clocks->clocks[i].name,
               vxs_clock_method_name(clocks->clocks[i].est.method),
               clocks->clocks[i].est.model.pieces[0].offset_ns / 1e6);
    printf("%llu frames, %llu damaged units\n",
           (unsigned long long)vxs_job_summary(job)->frames,
           (unsigned long long)vxs_job_summary(job)->damaged_units);
    rc = 0;
done:
    if (rc) fprintf(stderr, "sync_example: %s\n", err);
    vxs_frame_sink_destroy(sinks[0]); /* unfinished sinks leave nothing behind */
    vxs_frame_sink_destroy(sinks[1]);
    vxs_job_destroy(job);
    vxs_manifest_free(man);
    return rc;
}
