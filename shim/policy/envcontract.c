#include "envcontract.h"

#include <stdlib.h>
#include <string.h>

/* The supervisor's own list (docs/platform/supervisor.md,
 * "Proxy environment"): set only with a namespace. */
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
                bool secret_free)
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
}

void shim_env_contract_compute(const enum shim_verdict v[SHIM_SUB_COUNT], const char *proxy_url,
                               const char *report_path, char *const *base_env,
                               struct shim_env_contract *ret)
{
    struct shim_env_contract c;
    memset(&c, 0, sizeof c);
    unsigned degraded = shim_verdict_mask(v, SHIM_VERDICT_DEGRADED);
    unsigned fatal = shim_verdict_mask(v, SHIM_VERDICT_FATAL);

    if (degraded && !fatal)
        add(&c, base_env, "OPENSHELL_BEST_EFFORT_FAILURES", "1", true);
    else if (shim_env_get(base_env, "OPENSHELL_BEST_EFFORT_FAILURES"))
        /* Not ours to set, but an operator who set it anyway is reported. */
        add(&c, base_env, "OPENSHELL_BEST_EFFORT_FAILURES",
            shim_env_get(base_env, "OPENSHELL_BEST_EFFORT_FAILURES"), true);

    if (degraded & SHIM_SUB_BIT(SHIM_SUB_NETNS)) {
        const char *url = proxy_url ? proxy_url : "http://127.0.0.1:3128";
        for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
            add(&c, base_env, proxy_vars[i], url, false);
        for (size_t i = 0; i < sizeof no_proxy_vars / sizeof no_proxy_vars[0]; i++)
            add(&c, base_env, no_proxy_vars[i], NO_PROXY_VALUE, true);
        add(&c, base_env, "NODE_USE_ENV_PROXY", "1", true);
    }
    add(&c, base_env, "OPENSHELL_SHIM_REPORT", report_path, true);
    *ret = c;
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
    for (size_t i = 0; i < nb; i++)
        if (!(env[k++] = strdup(base_env[i])))
            goto oom;
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
