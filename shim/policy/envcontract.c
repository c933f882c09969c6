#include "envcontract.h"
#include "tlsfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The supervisor's own list (docs/platform/supervisor.md, proxy variables): set only with a
 * namespace. */
static const char *const proxy_vars[] = {
    "ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "grpc_proxy",
};
static const char *const no_proxy_vars[] = {"NO_PROXY", "no_proxy"};
#define NO_PROXY_VALUE "127.0.0.1,localhost,::1"

const char *shim_env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static void add(struct shim_env_contract *c, char *const *base, const char *name, const char *value,
                bool secret_free, const char *why)
{
    if (c->n >= SHIM_ENV_MAX)
        return; /* cannot happen: the lists above are fixed */
    struct shim_env_entry *e = &c->e[c->n++];
    e->name = name;
    e->value = strdup(value ? value : "");
    if (!e->value)
        abort(); /* as oss_buf does: ENOMEM this early has no recovery */
    e->action = shim_env_get(base, name) ? SHIM_ENV_OPERATOR : SHIM_ENV_SET;
    e->secret_free = secret_free;
    e->why = why;
}

static void token(char *out, size_t len, const char *t)
{
    size_t n = strlen(out);
    snprintf(out + n, len - n, "%s%s", n ? "," : "", t);
}

void shim_skip_bootstrap_tokens(const enum shim_verdict v[SHIM_SUB_COUNT],
                                const struct shim_seccomp_split *split, char *skip, size_t skip_len)
{
    skip[0] = '\0';
    if (v[SHIM_SUB_NETNS] == SHIM_VERDICT_DEGRADED)
        token(skip, skip_len, "netns");
    if (v[SHIM_SUB_SECCOMP] == SHIM_VERDICT_DEGRADED) {
        bool known = split && split->known;
        if (!known || split->prelude_refused)
            token(skip, skip_len, "supervisor-seccomp");
        if (!known || split->workload_refused)
            token(skip, skip_len, "workload-seccomp");
    }
}

void shim_env_contract_compute_for(const enum shim_verdict v[SHIM_SUB_COUNT],
                                   const struct shim_seccomp_split *split,
                                   enum shim_supervisor_contract contract, const char *proxy_url,
                                   const char *report_path, char *const *base_env,
                                   struct shim_env_contract *ret)
{
    struct shim_env_contract c;
    memset(&c, 0, sizeof c);
    unsigned degraded = shim_verdict_mask(v, SHIM_VERDICT_DEGRADED);
    unsigned fatal = shim_verdict_mask(v, SHIM_VERDICT_FATAL);
    bool want_skip = contract == SHIM_CONTRACT_BOTH || contract == SHIM_CONTRACT_SKIP_BOOTSTRAP;
    bool want_be = contract == SHIM_CONTRACT_BOTH || contract == SHIM_CONTRACT_BEST_EFFORT;

    char skip[96];
    shim_skip_bootstrap_tokens(v, split, skip, sizeof skip);
    if (want_skip && skip[0] && !fatal)
        add(&c, base_env, "OPENSHELL_SKIP_BOOTSTRAP", skip, true,
            "the degraded subsystems in the names of OpenShell pull request 1549");
    else if (shim_env_get(base_env, "OPENSHELL_SKIP_BOOTSTRAP"))
        add(&c, base_env, "OPENSHELL_SKIP_BOOTSTRAP",
            shim_env_get(base_env, "OPENSHELL_SKIP_BOOTSTRAP"), true, "set by the operator");

    if (want_be && degraded && !fatal)
        add(&c, base_env, "OPENSHELL_BEST_EFFORT_FAILURES", "1", true,
            "degraded subsystems, for supervisors built with OpenShell pull request 1548");
    else if (shim_env_get(base_env, "OPENSHELL_BEST_EFFORT_FAILURES"))
        /* Not ours to set, but an operator who set it anyway is reported. */
        add(&c, base_env, "OPENSHELL_BEST_EFFORT_FAILURES",
            shim_env_get(base_env, "OPENSHELL_BEST_EFFORT_FAILURES"), true, "set by the operator");

    if (degraded & SHIM_SUB_BIT(SHIM_SUB_NETNS)) {
        static const char why[] = "no network namespace: the supervisor sets no proxy variables";
        const char *url = proxy_url ? proxy_url : "http://127.0.0.1:3128";
        for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
            add(&c, base_env, proxy_vars[i], url, false, why);
        for (size_t i = 0; i < sizeof no_proxy_vars / sizeof no_proxy_vars[0]; i++)
            add(&c, base_env, no_proxy_vars[i], NO_PROXY_VALUE, true, why);
        add(&c, base_env, "NODE_USE_ENV_PROXY", "1", true, why);
    }
    add(&c, base_env, "OPENSHELL_SHIM_REPORT", report_path, true, "where the report is");
    *ret = c;
}

void shim_env_contract_compute(const enum shim_verdict v[SHIM_SUB_COUNT], const char *proxy_url,
                               const char *report_path, char *const *base_env,
                               struct shim_env_contract *ret)
{
    shim_env_contract_compute_for(v, NULL, SHIM_CONTRACT_BOTH, proxy_url, report_path, base_env,
                                  ret);
}

static bool is_proxy_name(const char *n)
{
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
        if (!strcmp(n, proxy_vars[i]))
            return true;
    return !strcmp(n, "NO_PROXY") || !strcmp(n, "no_proxy") || !strcmp(n, "NODE_USE_ENV_PROXY");
}

void shim_env_contract_proxy_to_workload(struct shim_env_contract *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].action == SHIM_ENV_SET && is_proxy_name(c->e[i].name)) {
            c->e[i].action = SHIM_ENV_WORKLOAD;
            c->e[i].why = "no network namespace: set on the workload only (exec-env), so the "
                          "supervisor's own clients do not use its proxy";
        }
}

static int dashdash(char *const *argv)
{
    for (int i = 0; argv && argv[i]; i++)
        if (!strcmp(argv[i], "--"))
            return argv[i + 1] ? i : -1;
    return -1;
}

bool shim_workload_argv_wrappable(char *const *argv)
{
    return dashdash(argv) > 0;
}

char **shim_workload_argv_wrap(char *const *argv, const char *exe,
                               const struct shim_env_contract *c)
{
    int dd = dashdash(argv);
    if (dd <= 0 || !exe)
        return NULL;
    size_t n = 0, nw = 0;
    while (argv[n])
        n++;
    for (size_t i = 0; i < c->n; i++)
        nw += c->e[i].action == SHIM_ENV_WORKLOAD;
    if (nw == 0)
        return NULL; /* nothing for the workload alone: the command line stays */
    char **v = calloc(n + nw + 4, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (int i = 0; i <= dd; i++)
        if (!(v[k++] = strdup(argv[i])))
            goto oom;
    if (!(v[k++] = strdup(exe)) || !(v[k++] = strdup("exec-env")))
        goto oom;
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].action != SHIM_ENV_WORKLOAD)
            continue;
        size_t len = strlen(c->e[i].name) + strlen(c->e[i].value) + 2;
        if (!(v[k] = malloc(len)))
            goto oom;
        snprintf(v[k++], len, "%s=%s", c->e[i].name, c->e[i].value);
    }
    if (!(v[k++] = strdup("--")))
        goto oom;
    for (size_t i = (size_t)dd + 1; i < n; i++)
        if (!(v[k++] = strdup(argv[i])))
            goto oom;
    v[k] = NULL;
    return v;
oom:
    shim_env_free(v);
    return NULL;
}

bool shim_env_token_movable(char *const *base_env)
{
    const char *t = shim_env_get(base_env, "OPENSHELL_SANDBOX_TOKEN");
    return t && *t && !shim_env_get(base_env, "OPENSHELL_SANDBOX_TOKEN_FILE");
}

void shim_env_contract_token(struct shim_env_contract *c, char *const *base_env,
                             const char *token_path)
{
    if (!token_path || !shim_env_token_movable(base_env) || c->n + 2 > SHIM_ENV_MAX)
        return;
    add(c, base_env, "OPENSHELL_SANDBOX_TOKEN", "", false, "moved into a 0400 file on a tmpfs");
    c->e[c->n - 1].action = SHIM_ENV_REMOVED;
    add(c, base_env, "OPENSHELL_SANDBOX_TOKEN_FILE", token_path, true,
        "the token's file: every upstream variant reads it");
}

void shim_env_contract_tls(struct shim_env_contract *c, char *const *base_env, bool written)
{
    if (!written || c->n + SHIM_TLS_NFILES > SHIM_ENV_MAX)
        return;
    for (size_t i = 0; i < SHIM_TLS_NFILES; i++) {
        add(c, base_env, shim_tls_pem_vars[i], "", false,
            "written to the file its OPENSHELL_TLS_* variable names (0400, tmpfs)");
        c->e[c->n - 1].action = SHIM_ENV_REMOVED;
    }
}

void shim_env_contract_free(struct shim_env_contract *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].value);
    c->n = 0;
}

char **shim_env_build(const struct shim_env_contract *c, char *const *base_env)
{
    size_t nb = 0;
    while (base_env && base_env[nb])
        nb++;
    char **env = calloc(nb + c->n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < nb; i++) {
        bool removed = false;
        for (size_t j = 0; j < c->n && !removed; j++) {
            size_t l = strlen(c->e[j].name);
            removed = c->e[j].action == SHIM_ENV_REMOVED &&
                      strncmp(base_env[i], c->e[j].name, l) == 0 && base_env[i][l] == '=';
        }
        if (removed)
            continue;
        if (!(env[k++] = strdup(base_env[i])))
            goto oom;
    }
    for (size_t i = 0; i < c->n; i++) {
        /* Re-checked against base here so a contract computed from another
         * environment still cannot override what this one holds. */
        if (c->e[i].action != SHIM_ENV_SET || shim_env_get(base_env, c->e[i].name))
            continue;
        size_t len = strlen(c->e[i].name) + 1 + strlen(c->e[i].value) + 1;
        char *s = malloc(len);
        if (!s)
            goto oom;
        strcpy(s, c->e[i].name);
        strcat(s, "=");
        strcat(s, c->e[i].value);
        env[k++] = s;
    }
    env[k] = NULL;
    return env;
oom:
    shim_env_free(env);
    return NULL;
}

void shim_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

char *shim_url_redact(const char *url)
{
    if (!url)
        return NULL;
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t hostlen = strcspn(host, "/?#");
    const char *at = memrchr(host, '@', hostlen);
    if (!at)
        return strdup(url);
    size_t pre = (size_t)(host - url);
    size_t len = pre + strlen("REDACTED@") + strlen(at + 1) + 1;
    char *r = malloc(len);
    if (!r)
        return NULL;
    memcpy(r, url, pre);
    strcpy(r + pre, "REDACTED@");
    strcat(r, at + 1);
    return r;
}
