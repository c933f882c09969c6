#include "template_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE                                                                                      \
    "ghcr.io/nvidia/openshell-community/sandboxes/base@sha256:"                                    \
    "4f2b1c3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
#define PAUSE                                                                                      \
    "registry.k8s.io/pause:3.10.2@sha256:"                                                         \
    "f548e0e8e3dc1896ca956272154dde3314e8cc4fde0a57577ee9fa1c63f5baf4"

/* Test data lives in static storage; the cases only point at it, and the
 * program never frees a spec it built here. */
void golden_base_config(struct drv_config *c)
{
    memset(c, 0, sizeof *c);
    c->default_namespace = (char *)"openshell";
    c->pause_image = (char *)PAUSE;
    c->snapshots_location = (char *)"gs://substrate-snapshots/openshell";
    c->sandbox_class = (char *)"gvisor";
    c->gateway_endpoint = (char *)"https://openshell-gateway.openshell.svc:8080";
    c->ssh_socket_path = (char *)"/run/openshell/ssh.sock";
    c->shim_path = (char *)"/usr/local/bin/openshell-shim";
    c->supervisor_path = (char *)"/usr/local/bin/openshell-sandbox";
    c->shim_degrade = (char *)"netns,landlock";
    c->shim_readyz_port = 8080;
    c->gateway_tls_secret = (char *)"openshell-client-tls";
}

static void minimal(struct drv_sandbox_spec *s, struct drv_config *c)
{
    s->id = (char *)"sbx-minimal";
    s->image = (char *)IMAGE;
}

static struct drv_kv env2[] = {
    {(char *)"ANTHROPIC_BASE_URL", (char *)"https://inference.local/v1"},
    {(char *)"WORKSPACE", (char *)"/sandbox/work \"quoted\""},
};
static char *agent_cmd[] = {(char *)"python3",       (char *)"-m",
                            (char *)"agent",         (char *)"--task",
                            (char *)"fix the build", NULL};

static void env_token(struct drv_sandbox_spec *s, struct drv_config *c)
{
    s->id = (char *)"sbx-3f9a";
    s->name = (char *)"alice-agent";
    s->image = (char *)IMAGE;
    s->command = agent_cmd;
    s->env = env2;
    s->nenv = 2;
    s->sandbox_token = (char *)"eyJhbGciOiJFUzI1NiJ9.c2FuZGJveA.FAKE-TOKEN-DO-NOT-LEAK";
    c->shim_stay_alive = true;
    c->shim_restart = (char *)"on-failure";
    c->worker_selector = (char *)"{\"ate.dev/pool\":\"agents\",\"zone\":\"us-central1-a\"}";
}

static void default_workload(struct drv_sandbox_spec *s, struct drv_config *c)
{
    s->id = (char *)"sbx-default";
    s->image = (char *)IMAGE;
    c->default_workload = (char *)"[\"/bin/sh\",\"-c\",\"exec sleep infinity\"]";
    c->sandbox_class = (char *)"microvm";
    c->shim_degrade = NULL;
    c->shim_readyz_port = 9090;
}

static void long_id(struct drv_sandbox_spec *s, struct drv_config *c)
{
    /* 63 characters: "osb-" would make 67, so the name is cut and hashed */
    s->id = (char *)"a23456789-b23456789-c23456789-d23456789-e23456789-f23456789-g23";
    s->image = (char *)IMAGE;
}

static void override(struct drv_sandbox_spec *s, struct drv_config *c)
{
    env_token(s, c);
    s->template_override = (char *)"team-agent-golden";
}

static struct drv_kv env_many[22];
static char env_names[22][16];

static void too_many_env(struct drv_sandbox_spec *s, struct drv_config *c)
{
    env_token(s, c);
    /* 11 driver entries (id, name, endpoint, ssh socket, token, 3 TLS paths,
     * 3 TLS refs) + 22 = 33 > 32 */
    for (size_t i = 0; i < 22; i++) {
        snprintf(env_names[i], sizeof env_names[i], "VAR_%02zu", i);
        env_many[i].key = env_names[i];
        env_many[i].value = (char *)"x";
    }
    s->env = env_many;
    s->nenv = 22;
}

static void max_env(struct drv_sandbox_spec *s, struct drv_config *c)
{
    too_many_env(s, c);
    s->nenv = 21; /* exactly 32 in the template */
}

/* A caller's identity variable: the template keeps the driver's value
 * (the golden file has no "someone-else"). */
static struct drv_kv env_reserved[] = {
    {(char *)"OPENSHELL_SANDBOX_ID", (char *)"someone-else"},
};
static void reserved_env(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    s->env = env_reserved;
    s->nenv = 1;
}

static void unpinned(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    s->image = (char *)"ghcr.io/nvidia/openshell-community/sandboxes/base:latest";
}

static char *long_cmd[60];
static void too_long_command(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    /* the shim and supervisor take 11 entries here; 54 more make 65 */
    for (size_t i = 0; i < 54; i++)
        long_cmd[i] = (char *)"arg";
    long_cmd[54] = NULL;
    s->command = long_cmd;
}

/* The gateway's default shell: tty set, log level from the spec. */
static void tty_log_level(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    s->name = (char *)"bob-shell";
    s->tty = true;
    s->log_level = (char *)"debug";
}

/* The caller's OPENSHELL_LOG_LEVEL wins over spec.log_level. */
static struct drv_kv env_log[] = {{(char *)"OPENSHELL_LOG_LEVEL", (char *)"trace"}};
static void user_log_level(struct drv_sandbox_spec *s, struct drv_config *c)
{
    tty_log_level(s, c);
    s->env = env_log;
    s->nenv = 1;
}

/* A plain-HTTP gateway needs no TLS files. */
static void http_endpoint(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    c->gateway_endpoint = (char *)"http://openshell-gateway.openshell.svc:8080";
    c->gateway_tls_secret = NULL;
}

/* https without the Secret: the supervisor would abort, so create refuses. */
static void https_no_tls(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    c->gateway_tls_secret = NULL;
}

/* The caller cannot feed the shim's TLS hand-over. */
static struct drv_kv env_shim_tls[] = {{(char *)"OPENSHELL_SHIM_TLS_CA_PEM", (char *)"x"}};
static void user_shim_tls(struct drv_sandbox_spec *s, struct drv_config *c)
{
    minimal(s, c);
    s->env = env_shim_tls;
    s->nenv = 1;
}

const struct golden_case golden_cases[] = {
    {"tty-log-level", GOLDEN_TEMPLATE, tty_log_level},
    {"user-log-level", GOLDEN_TEMPLATE, user_log_level},
    {"http-endpoint", GOLDEN_TEMPLATE, http_endpoint},
    {"https-no-tls", GOLDEN_TEMPLATE, https_no_tls},
    {"user-shim-tls", GOLDEN_TEMPLATE, user_shim_tls},
    {"minimal", GOLDEN_TEMPLATE, minimal},
    {"env-token", GOLDEN_TEMPLATE, env_token},
    {"env-token-secret", GOLDEN_SECRET, env_token},
    {"env-token-plan", GOLDEN_PLAN, env_token},
    {"default-workload", GOLDEN_TEMPLATE, default_workload},
    {"long-id", GOLDEN_TEMPLATE, long_id},
    {"override-plan", GOLDEN_PLAN, override},
    {"max-env", GOLDEN_TEMPLATE, max_env},
    {"too-many-env", GOLDEN_TEMPLATE, too_many_env},
    {"reserved-env", GOLDEN_TEMPLATE, reserved_env},
    {"unpinned-image", GOLDEN_TEMPLATE, unpinned},
    {"too-long-command", GOLDEN_TEMPLATE, too_long_command},
};
const size_t golden_ncases = sizeof golden_cases / sizeof golden_cases[0];
