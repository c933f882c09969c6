/* Drives the Substrate backend's ops directly against the fake
 * ate-api-server and the fake Kubernetes API (run_fakes.sh starts them), or
 * against a real cluster (live.sh).  One scenario per invocation:
 *
 *   substrate_backend_it lifecycle|down|rotate|aborted|never-ready|
 *                        create-fails|kube-faults|no-ca|plaintext|mtls|concurrent|
 *                        crash-create|after-crash|live|bench|async|
 *                        delete-during-create|stop-on-ready|names-restart|create-bench
 *
 * Scenarios live in it_faults.c and it_stress.c, shared helpers in
 * it_common.c.  Configuration comes from OSS_IT_* variables (fakes_lib.sh).  Every
 * error is printed to stderr as the driver would log it, so the caller can
 * check that the token reaches no log line.  Exit 0 = scenario passed. */
#include "it_common.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCENARIO\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const struct {
        const char *name;
        void (*fn)(void);
    } scenarios[] = {
        {"lifecycle", it_lifecycle},
        {"down", it_down},
        {"rotate", it_rotate},
        {"aborted", it_aborted},
        {"never-ready", it_never_ready},
        {"create-fails", it_create_fails},
        {"kube-faults", it_kube_faults},
        {"no-ca", it_no_ca},
        {"bench", it_bench},
        {"live", it_live},
        {"concurrent", it_concurrent},
        {"crash-create", it_crash_create},
        {"after-crash", it_after_crash},
        {"plaintext", it_plaintext},
        {"mtls", it_mtls},
        {"async", it_async},
        {"delete-during-create", it_delete_during_create},
        {"stop-on-ready", it_stop_on_ready},
        {"names-restart", it_names_restart},
        {"create-bench", it_create_bench},
        {"golden", it_golden},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (strcmp(argv[1], scenarios[i].name) == 0) {
            scenarios[i].fn();
            printf("%s %s\n", it_failures ? "FAIL" : "PASS", argv[1]);
            curl_global_cleanup();
            return it_failures ? 1 : 0;
        }
    fprintf(stderr, "unknown scenario %s\n", argv[1]);
    return 2;
}
